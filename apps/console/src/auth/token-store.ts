/**
 * Tokens live in memory and in sessionStorage (so a reload in the same tab keeps the login), never
 * in localStorage and never beyond the tab. Nothing else the console handles is stored.
 */
export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Epoch ms. */
  issuedAt: number;
  expiresAt: number;
}

const TOKENS_KEY = 'portcullis.tokens';
const LOGIN_KEY = 'portcullis.login';

let current: Tokens | null = null;

export function getTokens(): Tokens | null {
  if (current) return current;
  try {
    const raw = sessionStorage.getItem(TOKENS_KEY);
    current = raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    current = null;
  }
  return current;
}

export function setTokens(tokens: Tokens | null): void {
  current = tokens;
  if (tokens) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  else sessionStorage.removeItem(TOKENS_KEY);
}

/** The PKCE verifier and state of a login in progress, kept across the IdP redirect. */
export interface PendingLogin {
  codeVerifier: string;
  state: string;
  returnTo: string;
}

export function savePendingLogin(login: PendingLogin): void {
  sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
}

export function takePendingLogin(): PendingLogin | null {
  const raw = sessionStorage.getItem(LOGIN_KEY);
  sessionStorage.removeItem(LOGIN_KEY);
  return raw ? (JSON.parse(raw) as PendingLogin) : null;
}
