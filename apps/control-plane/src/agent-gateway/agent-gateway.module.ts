import { Module } from '@nestjs/common';
import { AgentAuthenticator } from './agent-authenticator.js';
import { AgentGatewayServer } from './agent-gateway.server.js';
import { AgentPresence } from './agent-presence.service.js';
import { AgentStreams } from './agent-streams.service.js';
import { ConnectionTestAnswers } from './connection-test-answers.js';
import { ConnectionTests } from './connection-tests.service.js';
import { RecordingIngest } from './recording-ingest.service.js';

/**
 * The AgentService gRPC server: agents' Connect streams, config pushes, recording ingestion, and
 * requests to one agent (connection tests) for the REST modules.
 */
@Module({
  providers: [
    AgentGatewayServer,
    AgentStreams,
    AgentAuthenticator,
    AgentPresence,
    RecordingIngest,
    ConnectionTestAnswers,
    ConnectionTests,
  ],
  exports: [AgentPresence, ConnectionTests],
})
export class AgentGatewayModule {}
