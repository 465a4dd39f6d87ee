import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectUpstream, parseTarget, UpstreamError } from './upstream.js';
import { PrivateCluster } from './testing/private-cluster.js';

describe('upstream login', () => {
  let cluster: PrivateCluster;
  before(async () => {
    cluster = await PrivateCluster.start();
  });
  after(() => cluster.stop());

  async function login(user: string, password: string | undefined, query = '') {
    const target = parseTarget(`postgresql://${user}@127.0.0.1:${cluster.port}/postgres${query}`);
    const session = await connectUpstream(target, password, { application_name: 'upstream-test' }, 5000);
    session.socket.destroy();
    return session;
  }

  it('logs in with SCRAM-SHA-256, md5 and cleartext passwords', async () => {
    for (const [user, password] of [
      ['scram_user', cluster.passwords.scram],
      ['md5_user', cluster.passwords.md5],
      ['plain_user', cluster.passwords.plain],
    ] as const) {
      const session = await login(user, password);
      assert.ok(session.pid > 0, user);
      assert.equal(session.ready[0], 0x5a);
      assert.ok(session.greeting.length > 5, 'ParameterStatus frames are kept for the client');
    }
  });

  it('reports a wrong password, and a missing credential, as upstream errors', async () => {
    await assert.rejects(
      login('scram_user', 'wrong'),
      (error: Error) =>
        error instanceof UpstreamError && /password authentication failed for user "scram_user"/.test(error.message),
    );
    await assert.rejects(login('md5_user', undefined), /no credential available/);
  });

  it('uses TLS when sslmode asks for it, verifying the certificate with verify-full', async () => {
    await assert.rejects(login('tls_user', cluster.passwords.tls), /no encryption/);
    assert.ok((await login('tls_user', cluster.passwords.tls, '?sslmode=require')).pid > 0);
    const verified = await login(
      'tls_user',
      cluster.passwords.tls,
      `?sslmode=verify-full&sslrootcert=${cluster.certFile}`,
    );
    assert.ok(verified.pid > 0);
    await assert.rejects(login('tls_user', cluster.passwords.tls, '?sslmode=verify-full'), /upstream TLS failed/);
  });

  it('parses connection targets', () => {
    assert.deepEqual(parseTarget('postgresql://app@db.internal:6543/sales?sslmode=verify-full'), {
      host: 'db.internal',
      port: 6543,
      database: 'sales',
      user: 'app',
      sslmode: 'verify-full',
      sslrootcert: undefined,
    });
    assert.equal(parseTarget('postgres://app@db/x?sslmode=prefer').sslmode, 'disable');
    assert.throws(() => parseTarget('postgresql://db/x'), /names no user/);
    assert.throws(() => parseTarget('http://app@db/x'), /postgresql:\/\//);
    assert.throws(() => parseTarget('postgresql://app@db/x?sslmode=bogus'), /unsupported sslmode/);
  });
});
