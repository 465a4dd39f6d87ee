import { readFile } from 'node:fs/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { AgentServiceService, type AgentServiceServer } from '@portcullis/proto';
import { AppConfig } from '../config/app-config.js';
import { AgentStreams } from './agent-streams.service.js';

const SHUTDOWN_GRACE_MS = 3_000;

/**
 * The AgentService gRPC port: opens once the application is up, closes first on shutdown (module
 * destroy hooks run before the global store and Redis modules close), so agents are recorded
 * offline while the store is still there.
 */
@Injectable()
export class AgentGatewayServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(AgentGatewayServer.name);
  private server: Server | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly streams: AgentStreams,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const credentials = await this.credentials();
    await this.streams.start();
    const server = new Server({
      // Finds agents whose network vanished without a FIN, so their streams end and free the slot.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // Agents may ping this often to keep NAT and load-balancer state alive.
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      // A recording batch is capped at 1 MB by the agent, but one event may exceed that alone.
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
    const service: AgentServiceServer = { connect: (call) => this.streams.connect(call) };
    server.addService(AgentServiceService, service);
    const host = this.config.grpcHost;
    const address = host.includes(':') ? `[${host}]` : host;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${address}:${this.config.grpcPort}`, credentials, (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.server = server;
    this.log.log(
      `agent gateway listening on ${address}:${port}${this.config.grpcTls ? '' : ' (plaintext, GRPC_INSECURE=true)'}`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await this.streams.stop();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** TLS unless plaintext is asked for explicitly; neither is a configuration error. */
  private async credentials(): Promise<ServerCredentials> {
    const tls = this.config.grpcTls;
    if (tls) {
      const [cert, key] = await Promise.all([readFile(tls.cert), readFile(tls.key)]).catch((err: Error) => {
        throw new Error(`AgentService TLS: cannot read GRPC_TLS_CERT / GRPC_TLS_KEY: ${err.message}`);
      });
      return ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
    }
    if (this.config.grpcInsecure) return ServerCredentials.createInsecure();
    throw new Error(
      'AgentService refuses to start without TLS: set GRPC_TLS_CERT and GRPC_TLS_KEY (PEM file paths), ' +
        'or GRPC_INSECURE=true for plaintext on a trusted local network only',
    );
  }
}
