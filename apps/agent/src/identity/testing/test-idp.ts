import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/**
 * A local IdP for tests: a JWKS served over real HTTP and tokens minted with its keys, shaped
 * like Keycloak access tokens (typ Bearer, preferred_username, groups, realm_access.roles).
 */
export class TestIdp {
  readonly issuer = 'https://idp.test/realms/portcullis';
  readonly audience = 'portcullis';
  jwksUri = '';
  /** How many times the JWKS was fetched (key rotation tests). */
  jwksFetches = 0;
  private added = 0;
  private readonly keys: { kid: string; alg: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  private server?: Server;

  static async start(): Promise<TestIdp> {
    const idp = new TestIdp();
    await idp.addKey('RS256');
    idp.server = createServer((_req, res) => {
      idp.jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: idp.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => idp.server!.listen(0, '127.0.0.1', resolve));
    idp.jwksUri = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}/certs`;
    return idp;
  }

  /** Adds (publishes) a signing key and returns its kid; new tokens are signed with it. */
  async addKey(alg: 'RS256' | 'ES256' | 'PS256'): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    const kid = `k${++this.added}-${alg}`;
    this.keys.push({ kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
    return kid;
  }

  /** Stops publishing a key (rotated out after a leak, say); tokens are signed with the newest left. */
  withdrawKey(kid: string): void {
    const index = this.keys.findIndex((k) => k.kid === kid);
    if (index < 0) throw new Error(`no key ${kid}`);
    this.keys.splice(index, 1);
  }

  /** A valid access token for `username`; `claims` override or add claims, `expiresIn` in seconds. */
  async token(
    username: string,
    options: { groups?: string[]; claims?: JWTPayload; expiresIn?: number; kid?: string; issuedAt?: number } = {},
  ): Promise<string> {
    const key = options.kid ? this.keys.find((k) => k.kid === options.kid)! : this.keys[this.keys.length - 1]!;
    const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: this.issuer,
      aud: this.audience,
      sub: `sub-${username}`,
      iat,
      exp: iat + (options.expiresIn ?? 300),
      typ: 'Bearer',
      preferred_username: username,
      groups: options.groups ?? [],
      realm_access: { roles: ['user'] },
      ...options.claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /** The snapshot's identity settings pointing at this IdP. */
  settings(clockSkewSeconds = 5) {
    return { issuer: this.issuer, audiences: [this.audience], jwksUri: this.jwksUri, clockSkewSeconds };
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
