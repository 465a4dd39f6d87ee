import { Injectable } from '@nestjs/common';
import Keycloak from 'keycloak-connect';
import { AppConfig } from '../config/app-config.js';
import type { AuthenticatedUser } from './decorators.js';

interface AccessTokenContent {
  sub?: string;
  preferred_username?: string;
  realm_access?: { roles?: unknown };
  groups?: unknown;
  exp?: unknown;
}

/**
 * Validates bearer tokens with keycloak-connect's GrantManager (bearer-only): RS256 signature
 * against the realm's JWKS (fetched and rotated by keycloak-connect), expiry, `typ: Bearer`,
 * issuer `<KEYCLOAK_URL>/realms/<realm>` and audience OIDC_AUDIENCE. Works unchanged against
 * Keycloak and the dev IdP.
 */
@Injectable()
export class TokenVerifier {
  private readonly grantManager: Keycloak.GrantManager;

  constructor(config: AppConfig) {
    const keycloak = new Keycloak({}, {
      realm: config.realm,
      'auth-server-url': config.keycloakUrl,
      resource: config.audience,
      'bearer-only': true,
      'verify-token-audience': true,
      'ssl-required': 'external',
      'confidential-port': 0,
    } as unknown as Keycloak.KeycloakConfig);
    this.grantManager = keycloak.grantManager;
  }

  /** The caller, or undefined for any token that does not validate (reason not exposed). */
  async verify(accessToken: string): Promise<AuthenticatedUser | undefined> {
    try {
      const grant = await this.grantManager.createGrant({ access_token: accessToken } as never);
      const content = (grant.access_token as unknown as { content: AccessTokenContent }).content;
      // keycloak-connect treats a token without exp as never expiring.
      if (!content.sub || typeof content.exp !== 'number') return undefined;
      return {
        subject: content.sub,
        username: content.preferred_username,
        roles: strings(content.realm_access?.roles),
        groups: strings(content.groups),
        tokenExpiresAt: new Date(content.exp * 1000),
      };
    } catch {
      return undefined;
    }
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
