import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compilePolicy, init, type PolicyInput } from '@portcullis/policy';
import type { PolicyInForce } from '../../policy/active-policy.js';
import { StatementJudge } from './statement-judge.js';

const inForce = (input: PolicyInput, version = 1): PolicyInForce => ({
  compiled: compilePolicy({ ...input, version }),
  version,
  hashKey: 'k',
});

function judgeWith(policy: PolicyInForce): { judge: StatementJudge; set(p: PolicyInForce): void } {
  let current = policy;
  const judge = new StatementJudge({ current: () => current }, 'demo-pg', { subject: 'carol', groups: ['analysts'] });
  return { judge, set: (p) => (current = p) };
}

describe('StatementJudge', () => {
  before(() => init());

  it('reuses a decision for texts that differ only in numeric constants', () => {
    const { judge } = judgeWith(inForce({ defaultAction: 'allow' }));
    const first = judge.judge('SELECT abalance FROM pgbench_accounts WHERE aid = 17');
    const second = judge.judge('SELECT abalance FROM pgbench_accounts WHERE aid = 90210');
    assert.equal(second, first);
    assert.equal(first.action, 'allow');
    assert.ok(judge.analysisOf(first)?.statements[0]?.tables.some((t) => t.name === 'pgbench_accounts'));
  });

  it('never shares a decision between texts whose strings or identifiers differ', () => {
    const { judge } = judgeWith(
      inForce({
        defaultAction: 'allow',
        rules: [{ id: 'no-secrets', match: { tables: ['secrets'] }, action: 'block' }],
      }),
    );
    assert.equal(judge.judge('SELECT * FROM t1 WHERE id = 1').action, 'allow');
    assert.equal(judge.judge('SELECT * FROM secrets WHERE id = 1').action, 'block');
    assert.equal(judge.judge("SELECT * FROM t1 WHERE name = 'a'").action, 'allow');
  });

  it('decides afresh when a new policy is in force', () => {
    const { judge, set } = judgeWith(inForce({ defaultAction: 'allow' }));
    assert.equal(judge.judge('DELETE FROM orders WHERE id = 1').action, 'allow');
    set(
      inForce(
        {
          defaultAction: 'allow',
          rules: [{ id: 'no-deletes', match: { statementKinds: ['DELETE'] }, action: 'block' }],
        },
        2,
      ),
    );
    const after = judge.judge('DELETE FROM orders WHERE id = 2');
    assert.equal(after.action, 'block');
    assert.deepEqual(after.ruleIds, ['no-deletes']);
  });

  it('judges EXECUTE by what the session prepared at that moment', () => {
    const { judge } = judgeWith(inForce({ defaultAction: 'allow' }));
    assert.equal(judge.judge('PREPARE p AS SELECT 1').action, 'allow');
    assert.equal(judge.judge('EXECUTE p').action, 'allow');
    judge.judge('DEALLOCATE p');
    // The same EXECUTE text now names nothing the agent saw prepared: refused, not remembered.
    const again = judge.judge('EXECUTE p');
    assert.equal(again.action, 'block');
    assert.ok(again.ruleIds.includes('guardrail:unknown-prepared-statement'), again.ruleIds.join());
  });

  it('does not reuse decisions under a policy with time windows', () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    const { judge } = judgeWith(
      inForce({ defaultAction: 'allow', rules: [{ id: 'later', match: { notBefore: soon }, action: 'block' }] }),
    );
    const first = judge.judge('SELECT 1');
    assert.notEqual(judge.judge('SELECT 2'), first);
  });
});
