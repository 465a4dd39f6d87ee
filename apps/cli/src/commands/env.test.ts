import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { envName, shellQuote } from './env.js';
import { durationMs } from './grants.js';

describe('env and grant helpers', () => {
  it('names HTTP variables after the connection', () => {
    assert.equal(envName('demo-llm'), 'DEMO_LLM');
    assert.equal(envName('3d-store'), '_3D_STORE');
  });

  it('quotes values so that the shell reads them back unchanged', () => {
    for (const value of ['plain.jwt-value_1', 'it\'s $HOME `x` "q"', 'a b\nc']) {
      const echoed = execFileSync('sh', ['-c', `X=${shellQuote(value)}; printf %s "$X"`]).toString();
      assert.equal(echoed, value);
    }
  });

  it('reads --expires-in durations and refuses anything else', () => {
    assert.equal(durationMs('90s'), 90_000);
    assert.equal(durationMs('30m'), 1_800_000);
    assert.equal(durationMs('1h'), 3_600_000);
    assert.equal(durationMs('7d'), 604_800_000);
    for (const bad of ['0h', '1w', 'h', '1.5h', '-1h']) assert.throws(() => durationMs(bad), /--expires-in/);
  });
});
