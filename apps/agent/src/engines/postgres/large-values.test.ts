import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Harness } from './testing/harness.js';

describe('PostgreSQL engine: large values', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start();
  });
  after(() => h.close());

  it('round-trips a 64 MiB field (client to upstream and back)', async () => {
    const client = await h.client();
    const big = 'abcdefgh'.repeat(8 * 1024 * 1024);
    const echoed = (await client.query('select $1::text as v', [big])).rows[0].v as string;
    assert.equal(echoed.length, big.length);
    assert.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(big).digest('hex'));
    await client.end();
    const statements = h.recorder.statements();
    const recorded = statements.find((s) => s.parameters.length === 1)!;
    assert.ok(recorded.parameters[0]!.length < 70 * 1024, 'the recorded parameter is capped');
    const preview = JSON.parse(recorded.resultJson) as { rows: string[][]; truncated: boolean };
    assert.ok(preview.rows[0]![0]!.length <= 64 * 1024 + 1 && preview.truncated, 'the recorded value is capped');
  });
});
