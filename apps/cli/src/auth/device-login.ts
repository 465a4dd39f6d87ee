import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { CliError } from '../errors.js';
import { discover, OAuthError, oauthReason, parseTokenResponse, postForm, type TokenResponse } from './oidc.js';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const DeviceAuthorization = z.object({
  device_code: z.string().min(1),
  user_code: z.string().min(1),
  verification_uri: z.url(),
  verification_uri_complete: z.url().optional(),
  expires_in: z.number().positive(),
  interval: z.number().positive().optional(),
});
export type DeviceAuthorization = z.infer<typeof DeviceAuthorization>;

export interface DeviceLoginOptions {
  clientId: string;
  /** Shows the user where to go and which code to enter. */
  prompt: (device: DeviceAuthorization) => void;
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * The OAuth 2.0 device authorization grant (RFC 8628): ask for a user code, let the person sign
 * in on any browser, poll the token endpoint at the pace the server asks for.
 */
export async function deviceLogin(issuer: string, opts: DeviceLoginOptions): Promise<TokenResponse> {
  const wait = opts.wait ?? sleep;
  const doc = await discover(issuer);
  if (!doc.device_authorization_endpoint) {
    throw new CliError(`the identity provider at ${issuer} does not offer the device authorization grant`);
  }
  const started = await postForm(issuer, doc.device_authorization_endpoint, {
    client_id: opts.clientId,
    scope: 'openid',
  });
  if (!started.res.ok) {
    throw new CliError(
      `the identity provider refused to start a login for ${opts.clientId}: ${oauthReason(started.res, started.body)}`,
    );
  }
  const parsed = DeviceAuthorization.safeParse(started.body);
  if (!parsed.success)
    throw new CliError(`the identity provider at ${issuer} sent an unexpected device authorization response`);
  const device = parsed.data;
  opts.prompt(device);

  // RFC 8628 3.5: 5 s when the server names no interval; +5 s on every slow_down.
  let intervalMs = (device.interval ?? 5) * 1000;
  const deadline = Date.now() + device.expires_in * 1000;
  for (;;) {
    await wait(intervalMs);
    const { res, body } = await postForm(issuer, doc.token_endpoint, {
      grant_type: DEVICE_CODE_GRANT,
      client_id: opts.clientId,
      device_code: device.device_code,
    });
    if (res.ok) return parseTokenResponse(issuer, body);
    const error = OAuthError.safeParse(body);
    const code = error.success ? error.data.error : undefined;
    if (code === 'slow_down') intervalMs += 5000;
    else if (code === 'access_denied') throw new CliError('the login was cancelled in the browser');
    else if (code === 'expired_token')
      throw new CliError('the login code expired before it was used; run `portcullis login` again');
    else if (code !== 'authorization_pending')
      throw new CliError(`the identity provider refused the login: ${oauthReason(res, body)}`);
    if (Date.now() > deadline)
      throw new CliError('the login code expired before it was used; run `portcullis login` again');
  }
}
