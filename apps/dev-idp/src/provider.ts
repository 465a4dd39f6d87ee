import Provider, {
  errors,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider';
import type { ProviderKeys } from './keys.js';
import { registerPasswordGrant } from './password-grant.js';
import { confirmDevicePage, messagePage, page, escapeHtml, userCodePage } from './pages.js';
import { Realm, tokenShape, userClaims, type RealmClient } from './realm.js';

/**
 * Keycloak has no resource indicators: every access token is a JWT for the audiences its client's
 * mappers name. One internal resource indicator, always applied, makes oidc-provider do the same.
 */
const TOKEN_RESOURCE = 'urn:portcullis:dev-idp:access-token';
const TOKEN_SCOPE = 'profile email';
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

export interface ProviderOptions {
  issuer: string;
  realm: Realm;
  keys: ProviderKeys;
  /** Overrides every client's access token lifetime (seconds). */
  accessTokenTtl?: number;
  /** Path of the sign-in page; the interaction uid is appended. */
  loginPath: string;
}

export function createProvider(opts: ProviderOptions): Provider {
  const { realm } = opts;

  const accessTokenTtl = (clientId: string): number => {
    const fromClient = Number(realm.client(clientId)?.attributes['access.token.lifespan']);
    return opts.accessTokenTtl ?? (fromClient > 0 ? fromClient : realm.accessTokenLifespan);
  };

  const resourceServerInfo = (clientId: string): ResourceServer => ({
    scope: TOKEN_SCOPE,
    audience: audiencesOf(clientId)[0],
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtl(clientId),
    jwt: { sign: { alg: 'RS256' } },
  });

  const configuration: Configuration = {
    clients: realm.clients.map(clientMetadata),
    jwks: opts.keys.jwks as Configuration['jwks'],
    cookies: { keys: opts.keys.cookieKeys },
    routes: {
      authorization: '/protocol/openid-connect/auth',
      device_authorization: '/protocol/openid-connect/auth/device',
      code_verification: '/device',
      end_session: '/protocol/openid-connect/logout',
      introspection: '/protocol/openid-connect/token/introspect',
      jwks: '/protocol/openid-connect/certs',
      revocation: '/protocol/openid-connect/revoke',
      token: '/protocol/openid-connect/token',
      userinfo: '/protocol/openid-connect/userinfo',
    },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    async findAccount(_ctx, sub) {
      const user = realm.user(sub);
      if (!user) return undefined;
      return { accountId: user.id, claims: () => ({ sub: user.id, ...userClaims(user, { audiences: [] }) }) };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = page(
            'Sign out',
            `<h1>Sign out?</h1><p>You will be signed out of the development identity provider.</p>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = messagePage('Signed out', 'You have been signed out.');
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, _out, err) => {
          ctx.body = userCodePage(form, err ? 'That code is not valid or has expired. Try again.' : undefined);
        },
        userCodeConfirmSource: (ctx, form, client, _deviceInfo, userCode) => {
          ctx.body = confirmDevicePage(form, client.clientName ?? client.clientId, userCode);
        },
        successSource: (ctx) => {
          ctx.body = messagePage('Device connected', 'You can close this window and return to your device.');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => TOKEN_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== TOKEN_RESOURCE) throw new errors.InvalidTarget();
          return resourceServerInfo(client.clientId);
        },
      },
    },
    formats: {
      customizers: {
        // Shape access tokens like Keycloak's: the control plane validates them with keycloak-connect.
        jwt: (_ctx, token, jwt) => {
          const client = realm.client(token.clientId!);
          if (!client) return;
          const shape = tokenShape(client);
          const accountId = 'accountId' in token ? (token.accountId as string | undefined) : undefined;
          const user = accountId ? realm.user(accountId) : realm.serviceAccount(client.clientId);
          const audiences = audiencesOf(client.clientId);
          Object.assign(jwt.payload, {
            typ: 'Bearer',
            azp: client.clientId,
            aud: audiences.length === 1 ? audiences[0] : audiences,
            ...(user ? { sub: user.id, ...userClaims(user, shape) } : {}),
          });
        },
      },
    },
    pkce: {
      required: (_ctx, client) =>
        client.clientAuthMethod === 'none' ||
        Boolean(realm.client(client.clientId)?.attributes['pkce.code.challenge.method']),
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (_ctx, interaction) => `${opts.loginPath}/${interaction.uid}` },
    // Every client comes from the realm file and none asks for consent: grant what is requested.
    loadExistingGrant: async (ctx) => {
      const { client, session, provider } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const scopes = [...ctx.oidc.requestParamOIDCScopes].join(' ');
      if (scopes) grant.addOIDCScope(scopes);
      const claims = [...ctx.oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, resourceServer] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        grant.addResourceScope(indicator, resourceServer.scope);
      }
      await grant.save();
      return grant;
    },
    clientBasedCORS: (_ctx, origin, client) => allowedOrigins(realm.client(client.clientId)).includes(origin),
    renderError: (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Error',
        `<h1>Something went wrong</h1><div class="error" role="alert">${escapeHtml(out.error_description ?? out.error)}</div>`,
      );
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl(token.clientId!),
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl(token.clientId!),
      AuthorizationCode: () => 60,
      DeviceCode: () => 600,
      IdToken: (_ctx, _token, client) => accessTokenTtl(client.clientId),
      Interaction: () => 30 * 60,
      RefreshToken: () => 30 * 60,
      Session: () => 10 * 60 * 60,
      Grant: () => 10 * 60 * 60,
    },
  };

  const provider = new Provider(opts.issuer, configuration);
  registerPasswordGrant(provider, realm, { indicator: TOKEN_RESOURCE, info: resourceServerInfo });
  allowKeycloakRedirectPatterns(provider);
  return provider;

  function audiencesOf(clientId: string): string[] {
    const client = realm.client(clientId);
    const audiences = client ? tokenShape(client).audiences : [];
    // A token needs an audience; Keycloak's tokens without an audience mapper name their own client.
    return audiences.length ? audiences : [clientId];
  }
}

function clientMetadata(client: RealmClient): ClientMetadata {
  const deviceFlow = client.attributes['oauth2.device.authorization.grant.enabled'] === 'true';
  const userFlows = client.standardFlowEnabled || deviceFlow || client.directAccessGrantsEnabled;
  const grantTypes = [
    client.standardFlowEnabled && 'authorization_code',
    client.serviceAccountsEnabled && 'client_credentials',
    client.directAccessGrantsEnabled && 'password',
    deviceFlow && DEVICE_CODE,
    userFlows && 'refresh_token',
  ].filter((g): g is string => typeof g === 'string');
  return {
    client_id: client.clientId,
    client_name: client.name ?? client.clientId,
    ...(client.publicClient
      ? { token_endpoint_auth_method: 'none' }
      : { token_endpoint_auth_method: 'client_secret_basic', client_secret: client.secret }),
    grant_types: grantTypes,
    response_types: client.standardFlowEnabled ? ['code'] : [],
    redirect_uris: client.standardFlowEnabled ? client.redirectUris : [],
    post_logout_redirect_uris: client.standardFlowEnabled ? postLogoutRedirectUris(client) : [],
  };
}

function postLogoutRedirectUris(client: RealmClient): string[] {
  const attribute = client.attributes['post.logout.redirect.uris'];
  if (attribute === undefined) return [];
  return attribute === '+' ? client.redirectUris : attribute.split('##').filter(Boolean);
}

/** Keycloak's web origins: listed origins, or "+" for the origins of the redirect URIs. */
function allowedOrigins(client: RealmClient | undefined): string[] {
  if (!client) return [];
  return client.webOrigins.flatMap((o) =>
    o === '+' ? client.redirectUris.map((u) => URL.parse(u)?.origin ?? '') : [o],
  );
}

/**
 * Keycloak matches redirect URIs with a trailing `*` as prefixes; oidc-provider matches exactly.
 * Patching the Client model is the extension point oidc-provider documents for this.
 */
function allowKeycloakRedirectPatterns(provider: Provider): void {
  const matches = (patterns: readonly string[], uri: string): boolean =>
    patterns.some((p) => (p.endsWith('*') ? uri.startsWith(p.slice(0, -1)) : uri === p));
  provider.Client.prototype.redirectUriAllowed = function (uri: string) {
    return matches(this.redirectUris ?? [], uri);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function (uri: string) {
    return matches(this.postLogoutRedirectUris ?? [], uri);
  };
}
