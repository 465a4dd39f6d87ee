import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { refreshDelayMs, userFromAccessToken } from './claims.js';
import { can } from './capabilities.js';

const jwt = (claims: object) =>
  ['{"alg":"RS256"}', JSON.stringify(claims), 'sig']
    .map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p))
    .join('.');

describe('reading the access token', () => {
  it('takes username, known realm roles and plain group names', () => {
    const user = userFromAccessToken(
      jwt({
        sub: 'u-1',
        preferred_username: 'alice',
        realm_access: { roles: ['admin', 'offline_access'] },
        groups: ['/admins', 'ops'],
      }),
    );
    assert.deepEqual(user, { subject: 'u-1', username: 'alice', roles: ['admin'], groups: ['admins', 'ops'] });
  });

  it('decodes non-ASCII names and tolerates missing claims', () => {
    const user = userFromAccessToken(jwt({ sub: 'u-2', preferred_username: 'zoë' }));
    assert.deepEqual(user, { subject: 'u-2', username: 'zoë', roles: [], groups: [] });
  });

  it('refuses something that is not a JWT', () => {
    assert.throws(() => userFromAccessToken('opaque-token'), /not a JWT/);
  });
});

describe('what each role may do in the console', () => {
  it('lets admins manage, auditors read recordings, stewards read inventory, and others nothing', () => {
    assert.equal(can({ roles: ['admin'] }, 'manage'), true);
    assert.equal(can({ roles: ['auditor'] }, 'manage'), false);
    assert.equal(can({ roles: ['auditor'] }, 'viewRecordings'), true);
    assert.equal(can({ roles: ['steward'] }, 'viewRecordings'), false);
    assert.equal(can({ roles: ['steward'] }, 'viewInventory'), true);
    assert.equal(can({ roles: [] }, 'viewInventory'), false);
    assert.equal(can(null, 'viewInventory'), false);
  });
});

describe('when to refresh', () => {
  it('refreshes a minute before expiry for long tokens and at three quarters for short ones', () => {
    assert.equal(refreshDelayMs(0, 300_000, 0), 240_000);
    assert.equal(refreshDelayMs(0, 60_000, 0), 45_000);
    assert.equal(refreshDelayMs(0, 300_000, 290_000), 0);
  });
});
