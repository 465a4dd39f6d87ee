import type { ConnectionKind } from '@portcullis/api';

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@,=+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface AgentSnippetInput {
  name: string;
  token: string;
  labels: string[];
  /** host:port of the control plane's gRPC AgentService, as the agent will dial it. */
  controlPlaneGrpc: string;
}

/** Environment for running the agent directly (systemd, docker run --env-file, a shell). */
export function agentEnvSnippet(a: AgentSnippetInput): string {
  return [
    `PORTCULLIS_CONTROL_PLANE=${shellQuote(a.controlPlaneGrpc)}`,
    `PORTCULLIS_AGENT_TOKEN=${shellQuote(a.token)}`,
    `PORTCULLIS_LABELS=${shellQuote(a.labels.join(','))}`,
  ].join('\n');
}

/** The agent's token goes into a Kubernetes Secret; the chart reads it from there, not from values. */
export function agentHelmSnippet(a: AgentSnippetInput): string {
  const secret = `${a.name}-agent-token`;
  return [
    `kubectl create secret generic ${secret} \\`,
    `  --from-literal=PORTCULLIS_AGENT_TOKEN=${shellQuote(a.token)}`,
    `helm upgrade --install ${a.name} deploy/helm/portcullis-agent \\`,
    `  --set controlPlane.address=${shellQuote(a.controlPlaneGrpc)} \\`,
    `  --set agent.existingTokenSecret=${secret} \\`,
    `  --set agent.labels=${shellQuote(`{${a.labels.join(',')}}`)}`,
  ].join('\n');
}

/** How a CI job reaches a connection with a short-lived service-account token. */
export function ciSnippet(
  connection: string,
  kind: ConnectionKind | string,
  controlPlaneUrl: string,
  issuer: string,
): string {
  const name = shellQuote(connection);
  const client =
    kind === 'postgres'
      ? [
          `portcullis run ${name} -- psql -c 'select 1'`,
          '',
          `# or export PG* variables for any PostgreSQL client:`,
          `eval "$(portcullis env ${name})"`,
        ]
      : [
          `portcullis run ${name} -- sh -c 'curl -sS "$PORTCULLIS_URL/"'`,
          '',
          `# or export PORTCULLIS_URL and a bearer token for any HTTP client:`,
          `eval "$(portcullis env ${name})"`,
        ];
  return [
    `# A CI job signs in as a service account (a confidential client of the IdP).`,
    `export PORTCULLIS_CONTROL_PLANE=${shellQuote(controlPlaneUrl)}`,
    `export PORTCULLIS_ISSUER=${shellQuote(issuer)}`,
    `export PORTCULLIS_CLIENT_ID=ci-bot`,
    `export PORTCULLIS_CLIENT_SECRET="$CI_BOT_SECRET"   # from the CI's secret store`,
    '',
    ...client,
  ].join('\n');
}
