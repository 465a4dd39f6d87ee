import { z } from 'zod';
import { CliError } from '../errors.js';
import { jsonBody, send, type Peer } from '../http.js';

const idp = (issuer: string): Peer => ({ what: 'the identity provider', base: issuer });

const Discovery = z.object({
  issuer: z.string(),
  token_endpoint: z.url(),
  device_authorization_endpoint: z.url().optional(),
  revocation_endpoint: z.url().optional(),
});
export type Discovery = z.infer<typeof Discovery>;

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });
export type OAuthError = z.infer<typeof OAuthError>;

/** The issuer's discovery document (Keycloak and the dev IdP both serve one). */
export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await send(idp(issuer), url, { headers: { accept: 'application/json' } });
  const doc = Discovery.safeParse(res.ok ? await jsonBody(res) : undefined);
  if (!doc.success) {
    throw new CliError(`${issuer} is not an OpenID Connect issuer (${url} answered ${res.status} ${res.statusText})`);
  }
  return doc.data;
}

/** Form-encoded POST to an endpoint of the identity provider; the answer as JSON. */
export async function postForm(
  issuer: string,
  endpoint: string,
  form: Record<string, string>,
  basicAuth?: [string, string],
): Promise<{ res: Response; body: unknown }> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (basicAuth) {
    // RFC 6749 2.3.1: form-encode the id and secret before base64.
    const [id, secret] = basicAuth.map((v) => new URLSearchParams({ v }).toString().slice(2));
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }
  const res = await send(idp(issuer), endpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { res, body: await jsonBody(res) };
}

/** "invalid_grant (the reason)", or the HTTP status when the body is not an OAuth error. */
export function oauthReason(res: Response, body: unknown): string {
  const oauth = OAuthError.safeParse(body);
  return oauth.success
    ? `${oauth.data.error}${oauth.data.error_description ? ` (${oauth.data.error_description})` : ''}`
    : `${res.status} ${res.statusText}`;
}

export function parseTokenResponse(issuer: string, body: unknown): TokenResponse {
  const token = TokenResponse.safeParse(body);
  if (!token.success) throw new CliError(`the identity provider at ${issuer} sent an unexpected token response`);
  return token.data;
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
  const { token_endpoint } = await discover(issuer);
  const { res, body } = await postForm(issuer, token_endpoint, form, opts.basicAuth);
  if (!res.ok) throw new CliError(`the identity provider refused ${opts.refusal}: ${oauthReason(res, body)}`);
  return parseTokenResponse(issuer, body);
}
