/**
 * Where the console finds its identity provider. The control plane serves `/console-config.json`
 * next to the built console (`{"issuer": "...", "clientId": "..."}`); without it the console uses
 * the development IdP, so `pnpm dev` works against `pnpm demo` with no setup.
 */
export interface ConsoleConfig {
  issuer: string;
  clientId: string;
}

export const DEV_CONFIG: ConsoleConfig = {
  issuer: 'http://127.0.0.1:8180/realms/portcullis',
  clientId: 'portcullis-console',
};

/** Reads a config document, keeping only well-formed fields and falling back field by field. */
export function parseConsoleConfig(value: unknown): ConsoleConfig {
  const given = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const issuer =
    typeof given.issuer === 'string' && isHttpUrl(given.issuer) ? given.issuer.replace(/\/+$/, '') : DEV_CONFIG.issuer;
  const clientId =
    typeof given.clientId === 'string' && given.clientId.trim() !== '' ? given.clientId : DEV_CONFIG.clientId;
  return { issuer, clientId };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  try {
    const res = await fetch('/console-config.json', { headers: { accept: 'application/json' }, cache: 'no-store' });
    // A dev server or an older control plane answers with index.html or 404: use the defaults.
    if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return DEV_CONFIG;
    return parseConsoleConfig(await res.json());
  } catch {
    return DEV_CONFIG;
  }
}
