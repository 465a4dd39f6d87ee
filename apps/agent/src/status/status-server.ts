import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import type { AgentMetrics } from './metrics.js';

/** What `/status` shows; contains no secrets. */
export interface AgentStatus {
  agentId: string | null;
  agentName: string | null;
  connected: boolean;
  configVersion: number | null;
  connections: string[];
  labels: string[];
  spool: { bytes: number; backlog: number };
  lastError: string | null;
}

export interface StatusServerOptions {
  listen: HostPort;
  metrics: AgentMetrics;
  status: () => AgentStatus;
  /** True once the process is up and an engine listens. */
  healthy: () => boolean;
  log: Logger;
}

/** `/healthz`, `/metrics` (Prometheus) and `/status` (JSON) for operators and probes. */
export class StatusServer {
  private readonly server: Server;

  constructor(private readonly options: StatusServerOptions) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        const ok = options.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'no engine listening\n');
      } else if (path === '/status') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.status()));
      } else if (path === '/metrics') {
        options.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(text),
          (err: Error) => {
            options.log.error({ err: err.message }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
  }

  async listen(): Promise<HostPort> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { host: this.options.listen.host, port: address.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
