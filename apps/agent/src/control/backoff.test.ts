import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Backoff } from './backoff.js';

it('doubles its ceiling up to the cap, draws uniformly below it, and starts over on reset', () => {
  const highest = new Backoff(200, 4000, () => 0.999999);
  const ceilings = Array.from({ length: 7 }, () => Math.round(highest.next()));
  assert.deepEqual(ceilings, [200, 400, 800, 1600, 3200, 4000, 4000]);
  highest.reset();
  assert.equal(Math.round(highest.next()), 200);

  const jittered = new Backoff(200, 4000);
  const draws = Array.from({ length: 200 }, () => jittered.next()).slice(10);
  assert.ok(draws.every((d) => d >= 0 && d < 4000));
  assert.ok(Math.min(...draws) < 1000 && Math.max(...draws) > 3000, 'full jitter spreads over the whole range');
});
