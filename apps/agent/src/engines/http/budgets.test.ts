import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestBudgets } from './budgets.js';

const limits = { windowSeconds: 60, requests: 2, tokens: 100 };

test('requests and tokens per window: the request over the limit is refused, the next window starts afresh', () => {
  const budgets = new RequestBudgets();
  const t0 = 1_000_000;
  assert.equal(budgets.admit('carol\0llm', limits, t0), undefined);
  assert.equal(budgets.admit('carol\0llm', limits, t0 + 1), undefined);
  assert.deepEqual(budgets.admit('carol\0llm', limits, t0 + 2), {
    ruleId: 'budget:requests',
    reason: 'request budget of 2 per 60 s used up',
  });
  assert.equal(budgets.admit('dave\0llm', limits, t0 + 2), undefined, 'each identity has its own');
  budgets.addTokens('dave\0llm', limits, 150, t0 + 3);
  assert.equal(budgets.admit('dave\0llm', limits, t0 + 4)?.ruleId, 'budget:tokens');
  assert.equal(budgets.admit('carol\0llm', limits, t0 + 60_000), undefined, 'a new window');
});

test('windows of identities that stopped calling are forgotten', () => {
  const budgets = new RequestBudgets();
  const t0 = 1_000_000;
  budgets.admit('carol\0llm', limits, t0);
  budgets.admit('dave\0llm', limits, t0);
  assert.equal(budgets.size, 2);
  budgets.admit('erin\0llm', limits, t0 + 120_000);
  assert.equal(budgets.size, 1);
});
