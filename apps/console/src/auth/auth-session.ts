import { refreshDelayMs, userFromAccessToken, type User } from './claims.js';
import { CALLBACK_PATH, describe, type Oidc } from './oidc.js';
import { getTokens, setTokens, type Tokens } from './token-store.js';

export type AuthState =
  { status: 'starting' } | { status: 'signed-out'; reason: string | null } | { status: 'signed-in'; user: User };

/**
 * The signed-in user's tokens and their refresh. One instance per tab; React reads it through
 * useSyncExternalStore and the API client asks it for a fresh access token on every request.
 */
export class AuthSession {
  private state: AuthState = { status: 'starting' };
  private readonly listeners = new Set<() => void>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<Tokens | null> | undefined;

  constructor(private readonly oidc: Oidc) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): AuthState => this.state;

  /** Finishes a login coming back from the IdP, or resumes the tab's login. Returns where to go next. */
  async start(): Promise<string | null> {
    const here = new URL(window.location.href);
    if (here.pathname === CALLBACK_PATH) {
      try {
        const { tokens, returnTo } = await this.oidc.completeLogin(here);
        this.signIn(tokens);
        return returnTo;
      } catch (error) {
        this.signOut(`Sign-in did not complete: ${describe(error)}`);
        return '/';
      }
    }
    const saved = getTokens();
    if (!saved) {
      this.signOut(null);
      return null;
    }
    if (saved.expiresAt - Date.now() > 5_000) this.signIn(saved);
    else await this.refreshNow(saved);
    return null;
  }

  login(returnTo: string): Promise<void> {
    return this.oidc.startLogin(returnTo);
  }

  async logout(): Promise<void> {
    const idToken = getTokens()?.idToken ?? null;
    this.signOut('You signed out.');
    const url = await this.oidc.logoutUrl(idToken);
    if (url) window.location.assign(url);
  }

  /** A token valid for the next few seconds, refreshing first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    const tokens = getTokens();
    if (!tokens) return null;
    if (tokens.expiresAt - Date.now() > 5_000) return tokens.accessToken;
    return (await this.refreshNow(tokens))?.accessToken ?? null;
  }

  /** The API refused the token (revoked, clock skew): try one refresh before giving up. */
  async tokenRefused(): Promise<string | null> {
    const tokens = getTokens();
    return tokens ? ((await this.refreshNow(tokens))?.accessToken ?? null) : null;
  }

  private refreshNow(tokens: Tokens): Promise<Tokens | null> {
    this.refreshing ??= this.oidc
      .refresh(tokens)
      .then((fresh) => {
        this.signIn(fresh);
        return fresh;
      })
      .catch((error: unknown) => {
        this.signOut(`Your session ended (${describe(error)}). Sign in again to continue.`);
        return null;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private signIn(tokens: Tokens): void {
    let user: User;
    try {
      user = userFromAccessToken(tokens.accessToken);
    } catch (error) {
      this.signOut(`The identity provider sent an access token the console cannot read: ${describe(error)}`);
      return;
    }
    setTokens(tokens);
    clearTimeout(this.refreshTimer);
    if (tokens.refreshToken) {
      this.refreshTimer = setTimeout(
        () => void this.refreshNow(tokens),
        refreshDelayMs(tokens.issuedAt, tokens.expiresAt, Date.now()),
      );
    }
    this.set({ status: 'signed-in', user });
  }

  private signOut(reason: string | null): void {
    clearTimeout(this.refreshTimer);
    setTokens(null);
    this.set({ status: 'signed-out', reason });
  }

  private set(state: AuthState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}
