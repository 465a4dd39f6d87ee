import { z } from 'zod';
import { CliError } from '../errors.js';
import { jsonBody, send, type Peer } from '../http.js';

const idp = (issuer: string): Peer => ({ what: 'the identity provider', base: issuer });

const Discovery = z.object({ issuer: z.string(), token_endpoint: z.url() });

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

/** The token endpoint, from the issuer's discovery document (Keycloak and the dev IdP both serve one). */
export async function tokenEndpoint(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await send(idp(issuer), url, { headers: { accept: 'application/json' } });
  const doc = Discovery.safeParse(res.ok ? await jsonBody(res) : undefined);
  if (!doc.success) {
    throw new CliError(`${issuer} is not an OpenID Connect issuer (${url} answered ${res.status} ${res.statusText})`);
  }
  return doc.data.token_endpoint;
}

/**
 * One token request. `refusal` says what was refused, for the error line
 * ("the identity provider refused client ci-bot: invalid_client (...)").
 */
export async function requestToken(
  issuer: string,
  form: Record<string, string>,
  opts: { refusal: string; basicAuth?: [string, string] },
): Promise<TokenResponse> {
  const endpoint = await tokenEndpoint(issuer);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (opts.basicAuth) {
    // RFC 6749 2.3.1: form-encode the id and secret before base64.
    const [id, secret] = opts.basicAuth.map((v) => new URLSearchParams({ v }).toString().slice(2));
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }
  const res = await send(idp(issuer), endpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  const body = await jsonBody(res);
  if (!res.ok) {
    const oauth = OAuthError.safeParse(body);
    const reason = oauth.success
      ? `${oauth.data.error}${oauth.data.error_description ? ` (${oauth.data.error_description})` : ''}`
      : `${res.status} ${res.statusText}`;
    throw new CliError(`the identity provider refused ${opts.refusal}: ${reason}`);
  }
  const token = TokenResponse.safeParse(body);
  if (!token.success) throw new CliError(`the identity provider at ${issuer} sent an unexpected token response`);
  return token.data;
}
