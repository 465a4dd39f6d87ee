import type net from 'node:net';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Harness } from './testing/harness.js';
import { frame, i16, i32, rawSession, startupPacket, z } from './testing/raw-client.js';

/** Small deterministic PRNG (mulberry32) so a failing run can be replayed from its seed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Well-formed frames to start mutations from. */
const CORPUS = [
  frame('Q', z('select 1')),
  frame('Q', z("select 'x' || $$y$$; select 2")),
  frame('P', Buffer.concat([z('s1'), z('select $1::text'), i16(1), i32(25)])),
  frame('P', Buffer.concat([z(''), z('select 1'), i16(0)])),
  frame('B', Buffer.concat([z(''), z('s1'), i16(0), i16(1), i32(3), Buffer.from('abc'), i16(0)])),
  frame('B', Buffer.concat([z('p'), z(''), i16(1), i16(1), i16(1), i32(-1), i16(1), i16(1)])),
  frame('D', Buffer.concat([Buffer.from('S'), z('s1')])),
  frame('E', Buffer.concat([z(''), i32(0)])),
  frame('C', Buffer.concat([Buffer.from('S'), z('s1')])),
  frame('S', Buffer.alloc(0)),
  frame('H', Buffer.alloc(0)),
  frame('d', Buffer.from('1\tx\n')),
  frame('c', Buffer.alloc(0)),
  frame('f', z('nope')),
];

function mutate(random: () => number, source: Buffer): Buffer {
  const out = Buffer.from(source);
  switch (Math.floor(random() * 6)) {
    case 0: // flip bytes anywhere, header included
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--)
        out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
      return out;
    case 1: // lie about the length
      out.writeInt32BE(Math.floor(random() * 2 ** 31) * (random() < 0.1 ? -1 : 1), 1);
      return out;
    case 2: // truncate
      return out.subarray(0, Math.floor(random() * out.length));
    case 3: // random bytes
      return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
    case 4: // small length change, keeping the type
      out.writeInt32BE(Math.max(0, out.readInt32BE(1) + Math.floor(random() * 9) - 4), 1);
      return out;
    default: // unchanged (well-formed frames keep sessions alive longer)
      return out;
  }
}

async function closeSoon(socket: net.Socket): Promise<void> {
  socket.end();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 2000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

describe('PostgreSQL engine fuzzing', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.start({ maxClientMessageBytes: 1024 * 1024 });
  });
  after(() => h.close());

  it('survives 10,000+ random and mutated frames while a well-formed client keeps working', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const token = await h.token('fuzz', { expiresIn: 600 });

    const good = await h.client('carol');
    let goodQueries = 0;
    let stop = false;
    const goodLoop = (async () => {
      while (!stop) {
        const n = goodQueries++;
        const result = await good.query('select $1::int + 1 as n', [n]);
        assert.equal(result.rows[0].n, n + 1);
      }
    })();

    let sent = 0;
    const fuzzOne = async (loggedIn: boolean) => {
      const socket = await rawSession(h.port, loggedIn ? token : undefined);
      const count = loggedIn ? 60 : 10;
      if (!loggedIn && random() < 0.5) {
        // Mutated startup packets and SSL/cancel requests before login.
        const startup = startupPacket({ user: 'x', database: 'sales' });
        socket.write(mutate(random, Buffer.concat([Buffer.from('S'), startup])).subarray(1));
      }
      for (let i = 0; i < count && !socket.destroyed; i++) {
        const source = CORPUS[Math.floor(random() * CORPUS.length)]!;
        socket.write(mutate(random, source));
        sent++;
      }
      await closeSoon(socket);
    };

    const rounds = Array.from({ length: 300 }, (_, i) => i % 5 !== 0);
    for (let i = 0; i < rounds.length; i += 8) {
      await Promise.all(rounds.slice(i, i + 8).map((loggedIn) => fuzzOne(loggedIn)));
    }
    stop = true;
    await goodLoop;

    assert.ok(sent >= 10_000, `sent ${sent} frames (seed ${seed})`);
    assert.ok(goodQueries > 10, `the well-formed client ran ${goodQueries} queries`);
    assert.equal((await good.query('select 7 as n')).rows[0].n, 7);
    await good.end();
    await h.recorder.waitFor(() => h.engine.liveSessions() === 0, 10_000);
    const outcomes = h.recorder.ends().map((e) => e.end.error);
    assert.ok(
      outcomes.some((e) => /unknown message type|invalid message length|exceeds the limit/.test(e)),
      'garbage was detected',
    );
    assert.ok(h.recorder.statements().length > 100, 'fuzzed sessions reached the upstream');
    const fresh = await h.client('carol');
    assert.equal((await fresh.query('select 1 as one')).rows[0].one, 1);
    await fresh.end();
  });
});
