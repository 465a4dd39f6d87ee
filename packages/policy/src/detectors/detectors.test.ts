import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScanner } from './scanner.js';
import { NEGATIVES, samples } from '../testing/corpus.js';
import type { Finding } from '../entities.js';

const scanner = createScanner({ region: 'US' });

interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

function overlaps(f: Finding, text: string, value: string): boolean {
  const at = text.indexOf(value);
  return at !== -1 && f.start < at + value.length && f.end > at;
}

test('labelled corpus: precision and recall per entity', () => {
  const all = samples();
  assert.ok(all.length >= 300, `corpus has ${all.length} samples`);
  const tally = new Map<string, Tally>();
  const t = (e: string) => tally.get(e) ?? (tally.set(e, { tp: 0, fp: 0, fn: 0 }), tally.get(e)!);
  const misses: string[] = [];
  for (const s of all) {
    const found = scanner.scan(s.text);
    const used = new Set<Finding>();
    for (const e of s.expect) {
      const hit = found.find((f) => f.entity === e.entity && !used.has(f) && overlaps(f, s.text, e.value));
      if (hit) {
        used.add(hit);
        t(e.entity).tp++;
      } else {
        t(e.entity).fn++;
        misses.push(`missed ${e.entity} in ${JSON.stringify(s.text)}`);
      }
    }
    for (const f of found) {
      if (used.has(f)) continue;
      t(f.entity).fp++;
      misses.push(`false ${f.entity} ${JSON.stringify(s.text.slice(f.start, f.end))} in ${JSON.stringify(s.text)}`);
    }
  }
  const rows = [...tally.entries()].sort().map(([e, { tp, fp, fn }]) => ({
    entity: e,
    tp,
    fp,
    fn,
    precision: tp + fp ? (tp / (tp + fp)).toFixed(3) : '-',
    recall: tp + fn ? (tp / (tp + fn)).toFixed(3) : '-',
  }));
  console.table(rows);
  if (misses.length) console.log(misses.join('\n'));
  for (const e of ['CREDIT_CARD', 'US_SSN', 'IBAN', 'EMAIL']) assert.equal(t(e).fn, 0, `${e} recall must be 100%`);
  for (const r of rows) {
    if (r.tp + r.fn > 0) assert.ok(r.tp / (r.tp + r.fn) >= 0.85, `${r.entity} recall ${r.recall}`);
  }
});

test('no negative sample is taken for a card or a phone number', () => {
  for (const text of NEGATIVES) {
    const bad = scanner.scan(text).filter((f) => f.entity === 'CREDIT_CARD' || f.entity === 'PHONE');
    assert.deepEqual(
      bad.map((f) => `${f.entity}:${text.slice(f.start, f.end)}`),
      [],
      text,
    );
  }
});

test('context words raise confidence: a bare 9-digit number is an SSN only after "SSN"', () => {
  assert.equal(scanner.scan('ref 078051121').length, 0);
  assert.deepEqual(
    scanner.scan('SSN 078051121').map((f) => f.entity),
    ['US_SSN'],
  );
});

test('dates count as birth dates only after birth words', () => {
  assert.deepEqual(
    scanner.scan('meeting on 1990-03-12').map((f) => f.entity),
    [],
  );
  assert.deepEqual(
    scanner.scan('DOB 1990-03-12').map((f) => f.entity),
    ['DATE_OF_BIRTH'],
  );
});

test('custom detectors with a validator and context words', () => {
  const s = createScanner({
    custom: [
      { name: 'EMPLOYEE_ID', pattern: 'E-\\d{6}', contextWords: ['employee'], requireContext: true },
      { name: 'LOYALTY_CARD', pattern: '\\b\\d{12}\\b', validator: 'luhn' },
    ],
  });
  assert.deepEqual(
    s.scan('employee E-123456').map((f) => f.entity),
    ['EMPLOYEE_ID'],
  );
  assert.deepEqual(
    s.scan('see E-123456').map((f) => f.entity),
    [],
  );
  assert.deepEqual(
    s.scan('loyalty 123456789015').map((f) => f.entity),
    ['LOYALTY_CARD'],
  );
  assert.deepEqual(
    s.scan('loyalty 123456789012').map((f) => f.entity),
    [],
  );
});

test('a custom pattern that can match nothing still ends and finds every value, astral text too', () => {
  const s = createScanner({ custom: [{ name: 'TICKET', pattern: '(?:T-\\d{4})?', flags: 'u' }] });
  const text = 'T-1234 😀😀 then T-5678 and 😀';
  assert.deepEqual(
    s.scan(text, new Set(['TICKET'])).map((f) => text.slice(f.start, f.end)),
    ['T-1234', 'T-5678'],
  );
});

test('scanning stays linear on hostile input', () => {
  const hostile = [
    'a'.repeat(200_000),
    '1'.repeat(200_000),
    '1 '.repeat(100_000),
    'a.'.repeat(100_000) + '@',
    'A'.repeat(100_000) + ':'.repeat(1000),
  ];
  for (const text of hostile) {
    const t0 = performance.now();
    scanner.scan(text);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `${ms.toFixed(0)} ms on ${JSON.stringify(text.slice(0, 10))}...`);
  }
});
