import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScanner } from '../detectors/scanner.js';
import { createMaskContext, maskJson, maskText } from './text.js';
import { columnMaskKind, maskCell, maskColumnValue, PgType } from './columns.js';

const scanner = createScanner();
const text = 'Card 4111-1111-1111-1111, mail jane.doe@example.com, SSN 078-05-1121.';

test('styles: redact, partial, hash, null', () => {
  const cases: [string, string][] = [
    ['redact', 'Card [CREDIT_CARD], mail [EMAIL], SSN [US_SSN].'],
    ['partial', 'Card ****-****-****-1111, mail j***@example.com, SSN ***-**-1121.'],
    ['null', 'Card , mail , SSN .'],
  ];
  for (const [style, expected] of cases) {
    assert.equal(maskText(text, createMaskContext({ scanner, style: style as 'redact' })).text, expected);
  }
  const hashed = maskText(text, createMaskContext({ scanner, style: 'hash', hashKey: 'k1' })).text;
  assert.match(
    hashed,
    /^Card \[CREDIT_CARD:[0-9a-f]{16}\], mail \[EMAIL:[0-9a-f]{16}\], SSN \[US_SSN:[0-9a-f]{16}\]\.$/,
  );
  // Stable across spellings of the same card, different under another key.
  const again = maskText(
    'Card 4111 1111 1111 1111, x',
    createMaskContext({ scanner, style: 'hash', hashKey: 'k1' }),
  ).text;
  assert.equal(again.slice(0, 36), hashed.slice(0, 36));
  const otherKey = maskText(text, createMaskContext({ scanner, style: 'hash', hashKey: 'k2' })).text;
  assert.notEqual(otherKey.slice(0, 36), hashed.slice(0, 36));
  assert.throws(() => createMaskContext({ scanner, style: 'hash' }), /needs a hash key/);
});

test('findings give entity and position, never the value', () => {
  const r = maskText(text, createMaskContext({ scanner }));
  assert.deepEqual(
    r.findings.map((f) => f.entity),
    ['CREDIT_CARD', 'EMAIL', 'US_SSN'],
  );
  assert.equal(text.slice(r.findings[1]!.start, r.findings[1]!.end), 'jane.doe@example.com');
  assert.ok(!JSON.stringify(r.findings).includes('jane'));
});

test('only the entities asked for are masked, each in its own style', () => {
  const ctx = createMaskContext({
    scanner,
    entities: ['EMAIL', 'US_SSN'],
    style: 'redact',
    styles: { US_SSN: 'partial' },
  });
  assert.equal(maskText(text, ctx).text, 'Card 4111-1111-1111-1111, mail [EMAIL], SSN ***-**-1121.');
});

test('JSON: strings and card-like numbers masked, keys and structure kept', () => {
  const counts = new Map();
  const out = maskJson(
    { user: { email: 'a.b@example.com', card: 4111111111111111, age: 42 }, notes: ['call 415-555-2671'] },
    createMaskContext({ scanner }),
    counts,
  );
  assert.deepEqual(out, { user: { email: '[EMAIL]', card: '[CREDIT_CARD]', age: 42 }, notes: ['call [PHONE]'] });
  assert.deepEqual(Object.fromEntries(counts), { EMAIL: 1, CREDIT_CARD: 1, PHONE: 1 });
});

test('column masking keeps a valid value of the type or NULL', () => {
  const key = { hashKey: 'k' };
  assert.equal(maskColumnValue('jane@example.com', PgType.text, 'redact', { label: 'email' }), '[email]');
  assert.equal(maskColumnValue('4111111111111111', PgType.varchar, 'partial'), '************1111');
  assert.match(maskColumnValue('jane@example.com', PgType.text, 'hash', key)!, /^[0-9a-f]{16}$/);
  assert.equal(maskColumnValue('x', PgType.text, 'null'), null);
  assert.equal(maskColumnValue(null, PgType.text, 'redact'), null);
  assert.equal(maskColumnValue('{"a":1}', PgType.jsonb, 'redact'), '"[REDACTED]"');
  // Numbers: NULL unless hashed, and a hash fits the type.
  assert.equal(maskColumnValue('123456789', PgType.int4, 'redact'), null);
  const h4 = Number(maskColumnValue('123456789', PgType.int4, 'hash', key));
  assert.ok(Number.isInteger(h4) && h4 >= -(2 ** 31) && h4 < 2 ** 31);
  const h2 = Number(maskColumnValue('7', PgType.int2, 'hash', key));
  assert.ok(h2 >= -32768 && h2 < 32768);
  assert.equal(maskColumnValue('7', PgType.int8, 'hash', key), maskColumnValue('7', PgType.int8, 'hash', key));
  assert.match(
    maskColumnValue('123e4567-e89b-12d3-a456-426614174000', PgType.uuid, 'hash', key)!,
    /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(maskColumnValue('1990-03-12', PgType.date, 'partial'), '1990-01-01');
  assert.equal(maskColumnValue('1990-03-12 10:00:00+02', PgType.timestamptz, 'partial'), '1990-01-01 00:00:00+00');
  assert.equal(maskColumnValue('t', PgType.bool, 'hash', key), null);
  assert.equal(columnMaskKind(PgType.int4, 'hash', 'binary'), 'null');
  assert.equal(columnMaskKind(PgType.text, 'redact', 'binary'), 'text');
});

test('maskCell keeps each cell decodable for its type', () => {
  const ctx = createMaskContext({ scanner, entities: ['CREDIT_CARD', 'EMAIL'] });
  const counts = new Map();
  assert.equal(maskCell('pay 4111111111111111', PgType.text, ctx, counts), 'pay [CREDIT_CARD]');
  assert.equal(maskCell('{"e":"a@example.com","n":1}', PgType.jsonb, ctx, counts), '{"e":"[EMAIL]","n":1}');
  assert.equal(maskCell('4111111111111111', PgType.int8, ctx, counts), null);
  assert.equal(maskCell('42', PgType.int8, ctx, counts), '42');
  assert.equal(maskCell(null, PgType.text, ctx, counts), null);
  assert.deepEqual(Object.fromEntries(counts), { CREDIT_CARD: 2, EMAIL: 1 });
});
