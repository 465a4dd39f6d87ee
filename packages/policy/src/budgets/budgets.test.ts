import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityBudgets, StatementBudget } from './budgets.js';

test('a statement budget stops at the row or byte limit', () => {
  const rows = new StatementBudget({ maxRows: 3 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => rows.onRow(10)),
    ['ok', 'ok', 'ok', 'exceeded', 'exceeded'],
  );
  assert.equal(rows.rows, 3);
  assert.equal(rows.exceededBy, 'row budget of 3 rows');
  const bytes = new StatementBudget({ maxBytes: 100 });
  assert.deepEqual(
    [40, 40, 40].map((b) => bytes.onRow(b)),
    ['ok', 'ok', 'exceeded'],
  );
  assert.equal(bytes.bytes, 80);
});

test('per-identity hourly budget: sliding window, caller supplies the time', () => {
  const budgets = new IdentityBudgets({ rowsPerHour: 100 }, { maxRows: 60 });
  const t0 = new Date('2026-11-25T10:00:00Z');
  const s1 = budgets.statement('carol', t0);
  let sent = 0;
  while (s1.onRow(8) === 'ok') sent++;
  assert.equal(sent, 60); // per-statement limit first
  budgets.record('carol', s1.rows, s1.bytes, t0);
  const t1 = new Date('2026-11-25T10:30:00Z');
  const s2 = budgets.statement('carol', t1);
  sent = 0;
  while (s2.onRow(8) === 'ok') sent++;
  assert.equal(sent, 40); // what is left this hour
  budgets.record('carol', s2.rows, s2.bytes, t1);
  assert.equal(budgets.check('carol', t1), 'exceeded');
  assert.equal(budgets.check('dave', t1), 'ok');
  assert.equal(budgets.check('carol', new Date('2026-11-25T11:01:00Z')), 'ok'); // the first 60 rows have aged out (whole minutes)
  assert.deepEqual(budgets.used('carol', new Date('2026-11-25T11:01:00Z')), { rows: 40, bytes: 320 });
});
