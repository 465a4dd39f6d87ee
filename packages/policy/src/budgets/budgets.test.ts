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
  assert.equal(rows.exceededBy, 'row budget of 3 rows per statement');
  const bytes = new StatementBudget({ maxBytes: 100 });
  assert.deepEqual(
    [40, 40, 40].map((b) => bytes.onRow(b)),
    ['ok', 'ok', 'exceeded'],
  );
  assert.equal(bytes.bytes, 80);
});

test('per-identity hourly budget: sliding window, caller supplies the time', () => {
  const budgets = new IdentityBudgets();
  const hourly = { rowsPerHour: 100 };
  const t0 = new Date('2026-11-25T10:00:00Z');
  const s1 = budgets.statement('carol', hourly, { maxRows: 60 }, t0);
  let sent = 0;
  while (s1.onRow(8) === 'ok') sent++;
  assert.equal(sent, 60); // per-statement limit first
  budgets.record('carol', s1.rows, s1.bytes, t0);
  const t1 = new Date('2026-11-25T10:30:00Z');
  const s2 = budgets.statement('carol', hourly, { maxRows: 60 }, t1);
  sent = 0;
  while (s2.onRow(8) === 'ok') sent++;
  assert.equal(sent, 40); // what is left this hour
  assert.equal(s2.exceededBy, 'hourly row budget of 100 rows (40 left this hour)');
  budgets.record('carol', s2.rows, s2.bytes, t1);
  assert.equal(budgets.check('carol', hourly, t1), 'exceeded');
  assert.equal(budgets.check('carol', { rowsPerHour: 150 }, t1), 'ok', 'a raised limit applies to what was used');
  assert.equal(budgets.check('dave', hourly, t1), 'ok');
  assert.equal(budgets.check('carol', hourly, new Date('2026-11-25T11:01:00Z')), 'ok'); // the first 60 rows have aged out (whole minutes)
  assert.deepEqual(budgets.used('carol', new Date('2026-11-25T11:01:00Z')), { rows: 40, bytes: 320 });
});

test('identities whose usage has aged out are forgotten', () => {
  const budgets = new IdentityBudgets();
  const t0 = new Date('2026-11-25T10:00:00Z');
  budgets.record('carol', 5, 50, t0);
  budgets.record('dave', 5, 50, t0);
  assert.equal(budgets.size, 2);
  budgets.record('erin', 1, 10, new Date('2026-11-25T11:05:00Z'));
  assert.equal(budgets.size, 1, 'carol and dave are past the hour and never came back');
});
