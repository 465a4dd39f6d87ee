import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { agentTokenMatches, hashAgentToken, newAgentToken, parseAgentToken } from './agent-token.js';

test('a token names its agent and matches only its own hash', () => {
  const id = randomUUID();
  const token = newAgentToken(id);
  assert.deepEqual(parseAgentToken(token), { agentId: id });
  assert.equal(agentTokenMatches(token, hashAgentToken(token)), true);
  assert.equal(agentTokenMatches(newAgentToken(id), hashAgentToken(token)), false);
  assert.equal(agentTokenMatches(token, 'not-a-hash'), false);
});

test('anything not shaped like a token is refused', () => {
  for (const bad of ['', 'pca_', `pca_${'0'.repeat(32)}_short`, `pcb_${'0'.repeat(32)}_${'A'.repeat(43)}`, `pca_${'G'.repeat(32)}_${'A'.repeat(43)}`]) {
    assert.equal(parseAgentToken(bad), undefined, bad);
  }
});
