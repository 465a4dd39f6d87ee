import { CliError, UsageError } from '../errors.js';
import { discover, oauthReason, parseTokenResponse, postForm, requestToken, type TokenResponse } from './oidc.js';
import { loginFrom, readSavedLogin, saveLogin, type SavedLogin } from './saved-login.js';

/** A cached access token is not used in its last 30 s: it must outlive the call it is sent with. */
const EXPIRY_MARGIN_MS = 30_000;

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
  throw noCredentials();
}

const noCredentials = () =>
  new UsageError(
    'no credentials: run `portcullis login`, or give --token, --client-id and --client-secret, or --username and --password (or set PORTCULLIS_TOKEN, or PORTCULLIS_CLIENT_ID and PORTCULLIS_CLIENT_SECRET)',
  );

const hasExplicitCredentials = (creds: Credentials): boolean =>
  [creds.clientId, creds.clientSecret, creds.username, creds.password].some((v) => v !== undefined);

/**
 * The bearer token for a control-plane call (or a data connection), from the first source that
 * has one: --token / PORTCULLIS_TOKEN, client credentials, username and password, then the login
 * saved by `portcullis login` (refreshed silently). `fresh` skips the cached access token, for a
 * token handed to another program.
 */
export async function accessToken(issuer: string, creds: Credentials, opts: { fresh?: boolean } = {}): Promise<string> {
  if (creds.token) return creds.token;
  if (hasExplicitCredentials(creds)) return (await obtainToken(issuer, creds)).access_token;
  const login = await readSavedLogin();
  if (!login) throw noCredentials();
  if (login.issuer !== issuer) {
    throw new UsageError(`you are logged in at ${login.issuer}, not ${issuer}; run \`portcullis login\``);
  }
  return savedLoginToken(login, opts.fresh ?? false);
}

async function savedLoginToken(login: SavedLogin, fresh: boolean, now = Date.now()): Promise<string> {
  const expiresAt = login.accessTokenExpiresAt ? Date.parse(login.accessTokenExpiresAt) : 0;
  if (!fresh && login.accessToken && expiresAt - EXPIRY_MARGIN_MS > now) return login.accessToken;
  const { token_endpoint } = await discover(login.issuer);
  const { res, body } = await postForm(login.issuer, token_endpoint, {
    grant_type: 'refresh_token',
    client_id: login.clientId,
    refresh_token: login.refreshToken,
  });
  if (!res.ok) {
    if (res.status === 400 || res.status === 401) {
      throw new CliError(`your login has ended (${oauthReason(res, body)}); run \`portcullis login\` again`);
    }
    throw new CliError(`the identity provider could not refresh your login: ${oauthReason(res, body)}`);
  }
  const token = parseTokenResponse(login.issuer, body);
  await saveLogin(loginFrom(login.issuer, login.clientId, token, login, now));
  return token.access_token;
}
