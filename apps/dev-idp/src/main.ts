import { fileURLToPath } from 'node:url';
import { startDevIdp, type DevIdpOptions } from './server.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function readOptions(env: NodeJS.ProcessEnv): DevIdpOptions {
  const port = Number(env.IDP_PORT ?? 8180);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`IDP_PORT must be a port number, got "${env.IDP_PORT}"`);
  const ttl = env.IDP_ACCESS_TOKEN_TTL === undefined ? undefined : Number(env.IDP_ACCESS_TOKEN_TTL);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) {
    throw new Error(`IDP_ACCESS_TOKEN_TTL must be a positive number of seconds, got "${env.IDP_ACCESS_TOKEN_TTL}"`);
  }
  return {
    host: env.IDP_HOST ?? '127.0.0.1',
    port,
    publicUrl: env.IDP_PUBLIC_URL || undefined,
    realmFile: env.IDP_REALM_FILE ?? `${repoRoot}deploy/keycloak/realm-portcullis.json`,
    dataDir: env.IDP_DATA_DIR ?? `${repoRoot}.data/dev-idp`,
    accessTokenTtl: ttl,
  };
}

async function main(): Promise<void> {
  console.error(
    [
      '*****************************************************************************',
      '* WARNING: dev-idp is a DEVELOPMENT identity provider. Its users, passwords *',
      '* and client secrets come from a plain realm file. Never use it in          *',
      '* production and never expose it beyond your machine: use Keycloak.        *',
      '*****************************************************************************',
    ].join('\n'),
  );
  const idp = await startDevIdp(readOptions(process.env));
  console.log(`dev-idp listening on ${idp.url}${new URL(idp.issuer).pathname}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void idp.close().then(() => process.exit(0)));
  }
}

main().catch((err: unknown) => {
  console.error(`dev-idp: ${(err as Error).message}`);
  process.exit(1);
});
