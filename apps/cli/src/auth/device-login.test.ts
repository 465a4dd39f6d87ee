import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deviceLogin } from './device-login.js';

/**
 * An issuer whose token endpoint answers the device-code polls from a script, so the pacing rules
 * of RFC 8628 can be checked: `interval` first, +5 s after each `slow_down`.
 */
function scriptedIssuer(answers: Array<[number, object]>): { server: Server; polls: URLSearchParams[] } {
  const polls: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/test`;
      const json = (status: number, value: object) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/realms/test/.well-known/openid-configuration') {
        return json(200, {
          issuer: base,
          token_endpoint: `${base}/token`,
          device_authorization_endpoint: `${base}/device`,
        });
      }
      if (req.url === '/realms/test/device') {
        return json(200, {
          device_code: 'dc-1',
          user_code: 'ABCD-EFGH',
          verification_uri: `${base}/activate`,
          expires_in: 600,
          interval: 2,
        });
      }
      polls.push(new URLSearchParams(body));
      const [status, answer] = answers.shift() ?? [500, {}];
      json(status, answer);
    });
  });
  return { server, polls };
}

describe('device login pacing', () => {
  let issuer: ReturnType<typeof scriptedIssuer>;
  let url: string;

  before(async () => {
    issuer = scriptedIssuer([
      [400, { error: 'authorization_pending' }],
      [400, { error: 'slow_down' }],
      [400, { error: 'authorization_pending' }],
      [200, { access_token: 'at', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt' }],
      [400, { error: 'access_denied' }],
    ]);
    await new Promise<void>((resolve) => issuer.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}/realms/test`;
  });
  after(() => issuer.server.close());

  it('waits `interval` between polls, 5 s more after slow_down, and returns the tokens', async () => {
    const waits: number[] = [];
    let shown = '';
    const token = await deviceLogin(url, {
      clientId: 'portcullis-cli',
      prompt: (d) => (shown = d.user_code),
      wait: async (ms) => waits.push(ms),
    });
    assert.equal(shown, 'ABCD-EFGH');
    assert.deepEqual(waits, [2000, 2000, 7000, 7000]);
    assert.equal(token.refresh_token, 'rt');
    assert.equal(issuer.polls[0]!.get('grant_type'), 'urn:ietf:params:oauth:grant-type:device_code');
    assert.equal(issuer.polls[0]!.get('device_code'), 'dc-1');
    assert.equal(issuer.polls[0]!.get('client_id'), 'portcullis-cli');
  });

  it('stops with a clear error when the person cancels', async () => {
    await assert.rejects(
      deviceLogin(url, { clientId: 'portcullis-cli', prompt: () => {}, wait: async () => {} }),
      /the login was cancelled in the browser/,
    );
  });
});
