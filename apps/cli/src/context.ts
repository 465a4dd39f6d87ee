import type { Command } from 'commander';
import type { Credentials } from './auth/index.js';
import { accessToken } from './auth/index.js';
import { readSettings } from './config.js';
import { ControlPlane } from './control-plane.js';
import { UsageError } from './errors.js';

export const DEFAULT_CONTROL_PLANE = 'http://127.0.0.1:8080';
export const DEFAULT_ISSUER = 'http://127.0.0.1:8180/realms/portcullis';

/** The global options, after commander applied the environment variables. */
interface GlobalOptions extends Credentials {
  controlPlane?: string;
  issuer?: string;
  json?: boolean;
}

/** What every command works with: where to go, how to print, who the user is. */
export interface Context {
  controlPlane: string;
  issuer: string;
  json: boolean;
  credentials: Credentials;
  api: ControlPlane;
  /** A token newly issued for this call (not the cached one), for handing to another program. */
  freshToken: () => Promise<string>;
}

/**
 * Flag, then environment, then `portcullis config set`; the issuer may also come from the control
 * plane itself, so a CI job needs nothing but the control plane's address and its client
 * credentials. Last, the local development defaults.
 */
export async function contextOf(cmd: Command): Promise<Context> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const settings = await readSettings();
  const controlPlane = httpUrl('--control-plane', opts.controlPlane ?? settings.controlPlane ?? DEFAULT_CONTROL_PLANE);
  const issuer = httpUrl('--issuer', opts.issuer ?? settings.issuer ?? (await discoverIssuer(controlPlane)) ?? DEFAULT_ISSUER);
  const credentials: Credentials = {
    token: opts.token,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    username: opts.username,
    password: opts.password,
  };
  return {
    controlPlane,
    issuer,
    json: Boolean(opts.json),
    credentials,
    api: new ControlPlane(controlPlane, () => accessToken(issuer, credentials)),
    freshToken: () => accessToken(issuer, credentials, { fresh: true }),
  };
}

/** The control plane's public `GET /api/v1/info`; undefined when it cannot tell. */
async function discoverIssuer(controlPlane: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${controlPlane}/api/v1/info`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { issuer?: unknown };
    return typeof body.issuer === 'string' ? body.issuer : undefined;
  } catch {
    return undefined;
  }
}

function httpUrl(option: string, value: string): string {
  const url = URL.parse(value);
  if (!url || !['http:', 'https:'].includes(url.protocol))
    throw new UsageError(`${option} must be an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}
