import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, toCsv, toJsonl } from './export.js';

describe('CSV export', () => {
  it('quotes commas, quotes and line breaks, and doubles inner quotes', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('cr\rhere'), '"cr\rhere"');
  });

  it("defuses spreadsheet formulas so a value cannot run in the auditor's spreadsheet", () => {
    assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.equal(csvCell('+1'), "'+1");
    assert.equal(csvCell('-2'), "'-2");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  });

  it('writes empty cells for null and JSON for objects', () => {
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
    assert.equal(csvCell(42), '42');
  });

  it('writes a header row and CRLF-terminated rows', () => {
    const csv = toCsv(
      [
        { actor: 'alice', action: 'grant.create', details: { to: 'analysts' } },
        { actor: 'bob, jr', action: 'x', details: {} },
      ],
      [
        { header: 'actor', value: (r) => r.actor },
        { header: 'action', value: (r) => r.action },
        { header: 'details', value: (r) => r.details },
      ],
    );
    assert.equal(csv, 'actor,action,details\r\nalice,grant.create,"{""to"":""analysts""}"\r\n"bob, jr",x,{}\r\n');
  });
});

describe('JSONL export', () => {
  it('writes one JSON document per line, keeping line breaks inside values escaped', () => {
    const text = toJsonl([{ a: 'x\ny' }, { b: 2 }]);
    assert.equal(text, '{"a":"x\\ny"}\n{"b":2}\n');
    assert.deepEqual(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [{ a: 'x\ny' }, { b: 2 }],
    );
  });

  it('writes nothing for no entries', () => {
    assert.equal(toJsonl([]), '');
  });
});
