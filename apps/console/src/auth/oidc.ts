import * as oauth from 'oauth4webapi';
import type { ConsoleConfig } from '../config.js';
import { savePendingLogin, takePendingLogin, type Tokens } from './token-store.js';

/** Plain HTTP is accepted only for an IdP on this machine (the dev IdP); anything else must be HTTPS. */
function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

function httpOptions(issuer: URL): { [oauth.allowInsecureRequests]?: boolean } {
  return isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
}

export const CALLBACK_PATH = '/callback';

export class Oidc {
  private server: Promise<oauth.AuthorizationServer> | undefined;
  private readonly issuer: URL;
  private readonly client: oauth.Client;

  constructor(private readonly config: ConsoleConfig) {
    this.issuer = new URL(config.issuer);
    this.client = { client_id: config.clientId };
  }

  private authorizationServer(): Promise<oauth.AuthorizationServer> {
    this.server ??= oauth
      .discoveryRequest(this.issuer, { algorithm: 'oidc', ...httpOptions(this.issuer) })
      .then((res) => oauth.processDiscoveryResponse(this.issuer, res))
      .catch((error: unknown) => {
        this.server = undefined; // try again on the next call
        throw new Error(`cannot reach the identity provider at ${this.config.issuer}: ${describe(error)}`);
      });
    return this.server;
  }

  private get redirectUri(): string {
    return `${window.location.origin}${CALLBACK_PATH}`;
  }

  /** Sends the browser to the IdP's login page (authorization code with PKCE S256). */
  async startLogin(returnTo: string): Promise<void> {
    const as = await this.authorizationServer();
    if (!as.authorization_endpoint) throw new Error('the identity provider has no authorization endpoint');
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    savePendingLogin({ codeVerifier, state, returnTo });
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: this.client.client_id,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: 'openid profile',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    }).toString();
    window.location.assign(url.toString());
  }

  /** Exchanges the code the IdP sent back to /callback; returns the tokens and where the user was going. */
  async completeLogin(callbackUrl: URL): Promise<{ tokens: Tokens; returnTo: string }> {
    const pending = takePendingLogin();
    if (!pending) throw new Error('this sign-in link was already used or did not start here; sign in again');
    const as = await this.authorizationServer();
    const params = oauth.validateAuthResponse(as, this.client, callbackUrl, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      this.client,
      oauth.None(),
      params,
      this.redirectUri,
      pending.codeVerifier,
      httpOptions(this.issuer),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, this.client, response);
    return { tokens: toTokens(result, null), returnTo: pending.returnTo };
  }

  /** Uses the refresh token for a new access token before the current one expires. */
  async refresh(tokens: Tokens): Promise<Tokens> {
    if (!tokens.refreshToken) throw new Error('no refresh token; sign in again');
    const as = await this.authorizationServer();
    const response = await oauth.refreshTokenGrantRequest(
      as,
      this.client,
      oauth.None(),
      tokens.refreshToken,
      httpOptions(this.issuer),
    );
    const result = await oauth.processRefreshTokenResponse(as, this.client, response);
    return toTokens(result, tokens);
  }

  /** The IdP's logout URL, or null when it has none (then forgetting the tokens is all we can do). */
  async logoutUrl(idToken: string | null): Promise<string | null> {
    const as = await this.authorizationServer().catch(() => null);
    if (!as?.end_session_endpoint) return null;
    const url = new URL(as.end_session_endpoint);
    url.searchParams.set('client_id', this.client.client_id);
    url.searchParams.set('post_logout_redirect_uri', `${window.location.origin}/`);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    return url.toString();
  }
}

function toTokens(result: oauth.TokenEndpointResponse, previous: Tokens | null): Tokens {
  const now = Date.now();
  return {
    accessToken: result.access_token,
    // Some IdPs rotate refresh tokens, others keep the first one.
    refreshToken: result.refresh_token ?? previous?.refreshToken ?? null,
    idToken: result.id_token ?? previous?.idToken ?? null,
    issuedAt: now,
    expiresAt: now + (result.expires_in ?? 300) * 1000,
  };
}

export function describe(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.error}: ${error.error_description ?? error.message}`;
  if (error instanceof oauth.AuthorizationResponseError)
    return `${error.error}: ${error.error_description ?? error.message}`;
  return error instanceof Error ? error.message : String(error);
}
