import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { closedPort } from './test-support.js';
import { connectTime, isLoopback, parseHostPort, rankAgents, type HostPort } from './nearest-agent.js';

const endpoints = (agents: Array<[string, Array<[string, string]>]>) => ({
  connection: { name: 'demo-pg', kind: 'postgres' as const },
  agents: agents.map(([name, addresses]) => ({
    id: `id-${name}`,
    name,
    labels: ['default'],
    addresses: addresses.map(([protocol, address]) => ({ protocol, address })),
  })),
});

describe('choosing the nearest agent', () => {
  it('reads host:port and [v6]:port, and nothing else', () => {
    assert.deepEqual(parseHostPort('10.0.0.5:15432'), { host: '10.0.0.5', port: 15432 });
    assert.deepEqual(parseHostPort('agent.eu.internal:5432'), { host: 'agent.eu.internal', port: 5432 });
    assert.deepEqual(parseHostPort('[::1]:15432'), { host: '::1', port: 15432 });
    for (const bad of ['10.0.0.5', ':15432', 'host:0', 'host:70000', '::1:15432', 'a b:1']) {
      assert.equal(parseHostPort(bad), undefined, bad);
    }
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('10.0.0.5') && !isLoopback('127.example.com'));
  });

  it('probes every address of the protocol at once, ranks the answers fastest first and drops the silent', async () => {
    const times: Record<string, number | undefined> = { 'a:1': 9, 'b:1': 2, 'c:1': undefined, 'd:1': 5 };
    const probed: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const probe = async ({ host, port }: HostPort) => {
      probed.push(`${host}:${port}`);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return times[`${host}:${port}`];
    };
    const ranked = await rankAgents(
      endpoints([
        ['slow', [['postgres', 'a:1']]],
        [
          'fast',
          [
            ['http', 'x:1'],
            ['postgres', 'b:1'],
          ],
        ],
        ['down', [['postgres', 'c:1']]],
        [
          'middle',
          [
            ['postgres', 'd:1'],
            ['postgres', 'not an address'],
          ],
        ],
      ]),
      'postgres',
      probe,
    );
    assert.deepEqual(
      ranked.map((c) => [c.agent, c.connectMs]),
      [
        ['fast', 2],
        ['middle', 5],
        ['slow', 9],
      ],
    );
    assert.deepEqual(probed.sort(), ['a:1', 'b:1', 'c:1', 'd:1'], 'only postgres addresses are probed');
    assert.equal(maxInFlight, 4, 'in parallel');
  });

  it('times a real TCP connect, and gives up on a refused one', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ms = await connectTime({ host: '127.0.0.1', port }, 1000);
    assert.ok(ms !== undefined && ms >= 0 && ms < 1000, `connect took ${ms}`);
    assert.equal(await connectTime({ host: '127.0.0.1', port: await closedPort() }, 1000), undefined);
    server.close();
  });

  it('stops waiting after the timeout', async () => {
    // A non-routable address (TEST-NET-1): the connect never completes.
    const started = Date.now();
    assert.equal(await connectTime({ host: '192.0.2.1', port: 5432 }, 200), undefined);
    assert.ok(Date.now() - started < 1000);
  });
});
