import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgType } from '@portcullis/policy';
import { binaryValueText } from './binary-values.js';
import { admin } from './testing/harness.js';

/** PostgreSQL's own binary form of `sql` (via its type's send function) and its text form. */
async function sent(sql: string, send: string): Promise<{ bytes: Buffer; text: string }> {
  const { rows } = await admin(`SELECT ${send}(v) AS bytes, v::text AS text FROM (SELECT ${sql} AS v) s`);
  return { bytes: rows[0].bytes as Buffer, text: rows[0].text as string };
}

describe('binary values read as text', () => {
  it('reads numeric exactly as PostgreSQL prints it, card numbers included', async () => {
    const values = [
      '4111111111111111',
      '6011000990139424123',
      '0',
      '-42',
      '12.50',
      '0.000123',
      '-0.5',
      '100000000',
      '123456789.000000001',
      '1e-20',
      '99999999999999999999.99',
    ];
    for (const value of values) {
      const { bytes, text } = await sent(`'${value}'::numeric`, 'numeric_send');
      assert.equal(binaryValueText(PgType.numeric, bytes, 0, bytes.length), text, value);
    }
    const nan = await sent(`'NaN'::numeric`, 'numeric_send');
    assert.equal(binaryValueText(PgType.numeric, nan.bytes, 0, nan.bytes.length), undefined);
  });

  it('keeps the text of huge numerics short, and digits past the scale that PostgreSQL never sends', async () => {
    const huge = await sent(`'1e131071'::numeric`, 'numeric_send');
    const text = binaryValueText(PgType.numeric, huge.bytes, 0, huge.bytes.length)!;
    assert.match(text, /^10{20,23}$/, 'a run of zeros cut short');
    const tiny = await sent(`'-4e-16383'::numeric`, 'numeric_send');
    assert.ok(binaryValueText(PgType.numeric, tiny.bytes, 0, tiny.bytes.length)!.length < 64);
    const many = await sent(`array_fill('1e131071'::numeric, ARRAY[4000])`, 'array_send');
    assert.ok(binaryValueText(1231, many.bytes, 0, many.bytes.length)!.length < 4000 * 32, 'an array of them too');
    // ndigits 4, weight -1, dscale 0: a card number hidden after the point of a value shown as "0".
    const hidden = Buffer.from([0, 4, 0xff, 0xff, 0, 0, 0, 0, 0x10, 0x0f, 0x04, 0x57, 0x04, 0x57, 0x04, 0x57]);
    assert.equal(binaryValueText(PgType.numeric, hidden, 0, hidden.length), '0.4111111111111111');
  });

  it('reads bigint, and arrays of bigint, numeric, text and JSON', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['4111111111111111::int8', 'int8send', PgType.int8, '4111111111111111'],
      [`ARRAY['carol@example.com', NULL, 'x']`, 'array_send', 1009, 'carol@example.com,x'],
      [`ARRAY[[1, 2], [3, 4]]::int8[]`, 'array_send', 1016, '1,2,3,4'],
      [`ARRAY[4111111111111111::numeric, 1.5]`, 'array_send', 1231, '4111111111111111,1.5'],
      [`ARRAY['{"a": "b@example.com"}'::jsonb]`, 'array_send', 3807, '{"a": "b@example.com"}'],
      [`'{}'::text[]`, 'array_send', 1009, ''],
    ];
    for (const [sql, send, oid, expected] of cases) {
      const { bytes } = await sent(sql, send);
      assert.equal(binaryValueText(oid, bytes, 0, bytes.length), expected, sql);
    }
  });

  it('gives nothing for other types and for bytes that are not what the type says', async () => {
    const { bytes } = await sent(`ARRAY['a']`, 'array_send');
    assert.equal(binaryValueText(PgType.bytea, bytes, 0, bytes.length), undefined);
    assert.equal(binaryValueText(1016, bytes, 0, bytes.length), undefined, 'a text[] read as int8[]');
    assert.equal(binaryValueText(1009, bytes, 0, bytes.length - 1), undefined, 'cut short');
    assert.equal(binaryValueText(PgType.int8, Buffer.alloc(3), 0, 3), undefined);
    assert.equal(binaryValueText(PgType.numeric, Buffer.alloc(9), 0, 9), undefined);
  });
});
