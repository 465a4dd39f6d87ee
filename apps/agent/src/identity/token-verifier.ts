import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import type { IdentitySettings } from '@portcullis/proto';
import type { SnapshotSource } from '../snapshot/snapshot-source.js';

/** Who presented the token, as every engine needs it. */
export interface VerifiedIdentity {
  subject: string;
  /** `preferred_username`, or the subject when the IdP sends none. */
  username: string;
  groups: string[];
  /** Realm roles (`realm_access.roles`). */
  roles: string[];
  expiresAt: Date;
}

/**
 * Why a token was refused. The text is shown to the client as is, so it names the problem
 * without echoing the token or anything secret.
 */
export type TokenRefusalReason =
  | 'token expired'
  | 'token not yet valid'
  | 'wrong issuer'
  | 'wrong audience'
  | 'bad signature'
  | 'malformed token'
  | 'not an access token'
  | 'signing keys unavailable'
  | 'identity provider not configured';

export type TokenVerification = { ok: true; identity: VerifiedIdentity } | { ok: false; reason: TokenRefusalReason };

/** Asymmetric algorithms only: `none` and HMAC (keyed with a public key) are never accepted. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const MAX_CLOCK_SKEW_SECONDS = 30;

export interface TokenVerifierOptions {
  /** The clock used for exp/nbf; injected so tests can move time. */
  now?: () => Date;
  /** Time to wait for the JWKS endpoint. */
  jwksTimeoutMs?: number;
  /**
   * Least time between two key-set fetches caused by unknown key ids, so tokens naming random
   * kids cannot hammer the IdP. Default 10 s.
   */
  jwksCooldownMs?: number;
  /** Verified tokens remembered at most (least recently used out first). Default 10,000. */
  rememberedTokens?: number;
  /**
   * A key set is fetched again when a verification finds it older than this, and in the
   * background every half of it, so a key the IdP withdraws stops the tokens remembered as signed
   * by it even while no new token comes. Default 5 minutes.
   */
  jwksMaxAgeMs?: number;
}


/** A token that passed verification, and until when it would still pass under `settings`. */
interface Remembered {
  identity: VerifiedIdentity;
  settings: IdentitySettings;
  /** Epoch ms from which jose would call it expired: exp plus the allowed clock skew. */
  acceptedUntil: number;
  /** The key id it was signed with (undefined: the token named none). */
  kid: string | undefined;
}

/**
 * Verifies OIDC access tokens locally (never asks the IdP per token): issuer, audiences, JWKS
 * and clock skew come from the current snapshot on every call, so a changed IdP setting applies
 * to the next login. The key set of each JWKS URI is cached; jose refetches it when a token names
 * a key id it does not know (key rotation), at most once per cooldown.
 *
 * A token that passed is remembered until it would expire: HTTP clients send the same token on
 * every request, and a signature check costs more than the rest of a proxied request. The answer
 * is reused only while the identity settings that verified it are unchanged, only until exp (plus
 * the allowed skew), and only while the key that signed it is in the key set as last fetched: a
 * key the IdP withdraws (rotated out after a leak) stops the tokens it signed at the next fetch,
 * at most `jwksMaxAgeMs` / 2 later, as if each were verified again. When the IdP cannot be reached
 * the last key set stands, so remembered tokens keep working until they expire. Who
 * may do what is not part of it: engines check disabled identities and grants against the current
 * snapshot on every use. Refusals are not remembered.
 */
export class TokenVerifier {
  /** Key lookup per JWKS URI, over jose's cached key set. */
  private readonly keySets = new Map<string, JWTVerifyGetKey>();
  /** Key ids of each key set as last fetched. */
  private readonly publishedKids = new Map<string, ReadonlySet<string | undefined>>();
  private readonly now: () => Date;
  private readonly jwksTimeoutMs: number;
  private readonly jwksCooldownMs: number;
  private readonly remembered = new Map<string, Remembered>();
  private readonly maxRemembered: number;
  private readonly jwksMaxAgeMs: number;

  constructor(
    private readonly snapshots: SnapshotSource,
    options: TokenVerifierOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.jwksTimeoutMs = options.jwksTimeoutMs ?? 5000;
    this.jwksCooldownMs = options.jwksCooldownMs ?? 10_000;
    this.maxRemembered = options.rememberedTokens ?? 10_000;
    this.jwksMaxAgeMs = options.jwksMaxAgeMs ?? 5 * 60_000;
  }

  async verify(token: string): Promise<TokenVerification> {
    const known = this.knownIdentity(token);
    if (known) return { ok: true, identity: known };
    const settings = this.snapshots.current()?.identity;
    if (!settings?.issuer || !settings.jwksUri || settings.audiences.length === 0) {
      return { ok: false, reason: 'identity provider not configured' };
    }
    const skew = Math.min(settings.clockSkewSeconds, MAX_CLOCK_SKEW_SECONDS);
    let payload: JWTPayload;
    let header: ProtectedHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, this.keySet(settings.jwksUri), {
        algorithms: ALGORITHMS,
        issuer: settings.issuer,
        audience: settings.audiences,
        clockTolerance: skew,
        currentDate: this.now(),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      return { ok: false, reason: refusalReason(error) };
    }
    // Keycloak marks access tokens with typ "Bearer"; ID and refresh tokens carry other values.
    if (payload.typ !== 'Bearer') return { ok: false, reason: 'not an access token' };
    const identity: VerifiedIdentity = {
      subject: payload.sub!,
      username: stringClaim(payload.preferred_username) ?? payload.sub!,
      groups: stringList(payload.groups).map((group) => group.replace(/^\//, '')),
      roles: stringList((payload.realm_access as { roles?: unknown } | undefined)?.roles),
      expiresAt: new Date(payload.exp! * 1000),
    };
    this.remember(token, { identity, settings, acceptedUntil: (payload.exp! + skew) * 1000, kid: header.kid });
    return { ok: true, identity };
  }

  /**
   * The identity of a token that passed before and would pass again now (same identity
   * settings, not expired), without any signature work; undefined when it must be verified.
   */
  knownIdentity(token: string): VerifiedIdentity | undefined {
    const entry = this.remembered.get(token);
    if (!entry) return undefined;
    const settings = this.snapshots.current()?.identity;
    if (
      !settings ||
      !sameSettings(entry.settings, settings) ||
      this.now().getTime() >= entry.acceptedUntil ||
      !this.keyStillPublished(settings.jwksUri, entry.kid)
    ) {
      this.remembered.delete(token);
      return undefined;
    }
    // Least recently used goes first when full: move this token to the back.
    this.remembered.delete(token);
    this.remembered.set(token, entry);
    return entry.identity;
  }

  private remember(token: string, entry: Remembered): void {
    if (this.maxRemembered <= 0) return;
    this.remembered.delete(token);
    if (this.remembered.size >= this.maxRemembered) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(token, entry);
  }

  /**
   * True while the key set as last fetched holds the key `kid`. A token naming no key id (not
   * Keycloak's way) matches only a published key without one, so it is mostly verified again.
   */
  private keyStillPublished(jwksUri: string, kid: string | undefined): boolean {
    return this.publishedKids.get(jwksUri)?.has(kid) === true;
  }

  private keySet(jwksUri: string): JWTVerifyGetKey {
    const known = this.keySets.get(jwksUri);
    if (known) return known;
    const remote = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.jwksTimeoutMs,
      cooldownDuration: this.jwksCooldownMs,
      cacheMaxAge: this.jwksMaxAgeMs,
    });
    // jose fetches within a key lookup (first use, unknown kid, stale set): note what it got
    // before the verification goes on, so memory never trusts a key set older than jose's.
    const noteKids = () => {
      const keys = remote.jwks()?.keys;
      if (keys) this.publishedKids.set(jwksUri, new Set(keys.map((key) => key.kid)));
    };
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } finally {
        noteKids();
      }
    };
    setInterval(() => {
      remote.reload().then(noteKids, () => undefined); // unreachable: the last key set stands
    }, this.jwksMaxAgeMs / 2).unref();
    this.keySets.set(jwksUri, getKey);
    return getKey;
  }
}

/** Snapshots bring new objects for the same settings: compared by value (a new snapshot per grant). */
function sameSettings(a: IdentitySettings, b: IdentitySettings): boolean {
  return (
    a === b ||
    (a.issuer === b.issuer &&
      a.jwksUri === b.jwksUri &&
      a.clockSkewSeconds === b.clockSkewSeconds &&
      a.audiences.length === b.audiences.length &&
      a.audiences.every((audience, i) => audience === b.audiences[i]))
  );
}

function refusalReason(error: unknown): TokenRefusalReason {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong issuer';
    if (error.claim === 'aud') return 'wrong audience';
    if (error.claim === 'nbf') return 'token not yet valid';
    return 'malformed token';
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JOSEAlgNotAllowed
  ) {
    return 'bad signature';
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return 'signing keys unavailable';
  }
  if (error instanceof errors.JOSEError) return 'malformed token';
  // Anything else comes from fetching the key set (network refused, bad HTTP status).
  return 'signing keys unavailable';
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
