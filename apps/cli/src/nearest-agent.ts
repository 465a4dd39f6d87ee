import { connect } from 'node:net';
import type { ConnectionEndpoints } from '@portcullis/api';

export interface HostPort {
  host: string;
  port: number;
}

/** An agent address a client can dial, and how long a TCP connect to it took. */
export interface Candidate {
  agent: string;
  address: HostPort;
  connectMs: number;
}

/** "host:port" or "[v6]:port"; undefined when it is neither. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !(port > 0 && port < 65536)) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Milliseconds to open a TCP connection, or undefined when it fails or takes longer than the timeout. */
export function connectTime(address: HostPort, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: address.host, port: address.port });
    const done = (ms: number | undefined) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(ms);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('connect', () => done(performance.now() - started));
    socket.once('error', () => done(undefined));
  });
}

export type Probe = (address: HostPort) => Promise<number | undefined>;

/**
 * The agent addresses for this protocol, all probed at once, fastest first; the ones that did
 * not answer are left out. An empty list means no agent is reachable from here.
 */
export async function rankAgents(
  endpoints: ConnectionEndpoints,
  protocol: string,
  probe: Probe = (address) => connectTime(address, 1000),
): Promise<Candidate[]> {
  const targets = endpoints.agents.flatMap((agent) =>
    agent.addresses.flatMap((a) => {
      const address = a.protocol === protocol ? parseHostPort(a.address) : undefined;
      return address ? [{ agent: agent.name, address }] : [];
    }),
  );
  const timed = await Promise.all(targets.map(async (t) => ({ ...t, connectMs: await probe(t.address) })));
  return timed.filter((c): c is Candidate => c.connectMs !== undefined).sort((a, b) => a.connectMs - b.connectMs);
}
