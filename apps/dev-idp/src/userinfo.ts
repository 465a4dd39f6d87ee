import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { ProviderKeys } from './keys.js';
import { tokenShape, userClaims, type Realm } from './realm.js';

/**
 * Keycloak answers userinfo for its (JWT) access tokens. oidc-provider only does so for tokens
 * without a resource server, and every token here has one, so this endpoint is served beside it.
 */
export function createUserinfoHandler(opts: { issuer: string; realm: Realm; keys: ProviderKeys }) {
  const publicKeys = opts.keys.jwks.keys.map(({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use }));
  const jwks = createLocalJWKSet({ keys: publicKeys });

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...headers,
        'access-control-allow-headers': 'authorization',
        'access-control-allow-methods': 'GET, POST',
      });
      return void res.end();
    }
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let claims: Record<string, unknown> | undefined;
    if (token) {
      try {
        const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer, algorithms: ['RS256'] });
        const user = payload.sub ? opts.realm.user(payload.sub) : undefined;
        const client = typeof payload.azp === 'string' ? opts.realm.client(payload.azp) : undefined;
        if (user && client) claims = { sub: user.id, ...userClaims(user, tokenShape(client)) };
      } catch {
        // Expired, tampered or foreign: answered below like any invalid token.
      }
    }
    if (!claims) {
      res.writeHead(401, {
        ...headers,
        'www-authenticate': 'Bearer error="invalid_token"',
        'content-type': 'application/json',
      });
      return void res.end(JSON.stringify({ error: 'invalid_token', error_description: 'Token verification failed' }));
    }
    res.writeHead(200, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify(claims));
  };
}
