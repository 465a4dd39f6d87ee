import { UsageError } from '../errors.js';
import { requestToken, type TokenResponse } from './oidc.js';

/** The public client the CLI uses for user tokens (realm file: deploy/keycloak). */
export const CLI_CLIENT_ID = 'portcullis-cli';

export interface Credentials {
  /** A ready access token (--token / PORTCULLIS_TOKEN). */
  token?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
}

/** A new token from the identity provider: client credentials first, then username and password. */
export async function obtainToken(issuer: string, creds: Credentials): Promise<TokenResponse> {
  if (creds.clientId !== undefined || creds.clientSecret !== undefined) {
    if (!creds.clientId || !creds.clientSecret) {
      throw new UsageError(
        'client credentials need both --client-id and --client-secret (or PORTCULLIS_CLIENT_ID and PORTCULLIS_CLIENT_SECRET)',
      );
    }
    return requestToken(
      issuer,
      { grant_type: 'client_credentials' },
      {
        refusal: `client ${creds.clientId}`,
        basicAuth: [creds.clientId, creds.clientSecret],
      },
    );
  }
  if (creds.username !== undefined || creds.password !== undefined) {
    if (!creds.username || !creds.password) throw new UsageError('a user token needs both --username and --password');
    return requestToken(
      issuer,
      {
        grant_type: 'password',
        client_id: CLI_CLIENT_ID,
        username: creds.username,
        password: creds.password,
        scope: 'openid',
      },
      { refusal: `the sign-in of ${creds.username}` },
    );
  }
  throw new UsageError(
    'no credentials: give --token, --client-id and --client-secret, or --username and --password (or set PORTCULLIS_TOKEN, or PORTCULLIS_CLIENT_ID and PORTCULLIS_CLIENT_SECRET)',
  );
}

/**
 * The bearer token for a control-plane call, from the first source that has one:
 * --token / PORTCULLIS_TOKEN, then client credentials, then username and password.
 * (A cached login, once `portcullis login` exists, slots in before the error.)
 */
export async function accessToken(issuer: string, creds: Credentials): Promise<string> {
  if (creds.token) return creds.token;
  return (await obtainToken(issuer, creds)).access_token;
}
