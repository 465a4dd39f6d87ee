import type Provider from 'oidc-provider';
import { errors, type ResourceServer, type TokenEndpointGrantContext } from 'oidc-provider';
import type { Realm } from './realm.js';

const GRANT_TYPE = 'password';
const USER_SCOPES = 'openid profile email';

/**
 * Keycloak's "direct access grant" (resource owner password). oidc-provider does not ship it,
 * so it is registered as a custom grant. Only clients with directAccessGrantsEnabled in the realm
 * file have it among their grant types; the token endpoint refuses it for the others.
 */
export function registerPasswordGrant(
  provider: Provider,
  realm: Realm,
  resource: { indicator: string; info: (clientId: string) => ResourceServer },
): void {
  provider.registerGrantType(
    GRANT_TYPE,
    async (ctx: TokenEndpointGrantContext<{ username?: string; password?: string }>) => {
      const { client, params } = ctx.oidc;
      if (!params.username || !params.password) {
        throw new errors.InvalidRequest('username and password are required');
      }
      const user = realm.authenticate(params.username, params.password);
      if (!user) throw new errors.InvalidGrant('Invalid user credentials');

      const grant = new provider.Grant({ clientId: client.clientId, accountId: user.id });
      grant.addOIDCScope(USER_SCOPES);
      const resourceServer = new provider.ResourceServer(resource.indicator, resource.info(client.clientId));
      grant.addResourceScope(resource.indicator, resourceServer.scope);
      const grantId = await grant.save();

      const accessToken = new provider.AccessToken({
        accountId: user.id,
        client,
        grantId,
        gty: GRANT_TYPE,
        scope: resourceServer.scope,
      });
      accessToken.resourceServer = resourceServer;
      const refreshToken = new provider.RefreshToken({
        accountId: user.id,
        client,
        grantId,
        gty: GRANT_TYPE,
        scope: USER_SCOPES,
        resource: resource.indicator,
        rotations: 0,
      });
      ctx.body = {
        access_token: await accessToken.save(),
        expires_in: accessToken.expiration,
        refresh_token: client.grantTypeAllowed('refresh_token') ? await refreshToken.save() : undefined,
        token_type: 'Bearer',
        scope: resourceServer.scope,
      };
    },
    ['username', 'password', 'scope', 'resource'],
  );
}
