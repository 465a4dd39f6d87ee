import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { TokenVerifier } from './token-verifier.js';
import { checkAccess } from './access-check.js';
import { MemorySnapshots } from './testing/memory-snapshots.js';
import { TestIdp } from './testing/test-idp.js';
import type { ConfigSnapshot } from '@portcullis/proto';

function snapshotFor(idp: TestIdp, patch: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
  return {
    version: 1,
    connections: [],
    grants: [],
    identity: idp.settings(),
    disabledIdentities: [],
    generatedAt: new Date(),
    ...patch,
  };
}

describe('TokenVerifier', () => {
  let idp: TestIdp;
  let snapshots: MemorySnapshots;
  let verifier: TokenVerifier;

  before(async () => {
    idp = await TestIdp.start();
    snapshots = new MemorySnapshots(snapshotFor(idp));
    verifier = new TokenVerifier(snapshots, { jwksCooldownMs: 0 });
  });
  after(() => idp.close());

  it('accepts a valid access token and returns who it is', async () => {
    const result = await verifier.verify(await idp.token('carol', { groups: ['/analysts'] }));
    assert.ok(result.ok);
    assert.equal(result.identity.subject, 'sub-carol');
    assert.equal(result.identity.username, 'carol');
    assert.deepEqual(result.identity.groups, ['analysts']);
    assert.deepEqual(result.identity.roles, ['user']);
    assert.ok(result.identity.expiresAt.getTime() > Date.now());
  });

  it('refuses an expired token, but allows the configured clock skew', async () => {
    const past = Math.floor(Date.now() / 1000) - 400;
    assert.deepEqual(await verifier.verify(await idp.token('carol', { issuedAt: past, expiresIn: 300 })), {
      ok: false,
      reason: 'token expired',
    });
    const justExpired = await idp.token('carol', { issuedAt: Math.floor(Date.now() / 1000) - 303, expiresIn: 300 });
    assert.equal((await verifier.verify(justExpired)).ok, true, '3 s late is within the 5 s skew');
  });

  it('caps the clock skew at 30 s whatever the snapshot says', async () => {
    snapshots.apply(snapshotFor(idp, { identity: idp.settings(3600) }));
    try {
      const late = await idp.token('carol', { issuedAt: Math.floor(Date.now() / 1000) - 360, expiresIn: 300 });
      assert.deepEqual(await verifier.verify(late), { ok: false, reason: 'token expired' });
    } finally {
      snapshots.apply(snapshotFor(idp));
    }
  });

  it('refuses a token from another issuer or for another audience', async () => {
    assert.deepEqual(await verifier.verify(await idp.token('carol', { claims: { iss: 'https://evil.test' } })), {
      ok: false,
      reason: 'wrong issuer',
    });
    assert.deepEqual(await verifier.verify(await idp.token('carol', { claims: { aud: 'other-app' } })), {
      ok: false,
      reason: 'wrong audience',
    });
  });

  it('refuses a token signed by a key the IdP does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ typ: 'Bearer' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1-RS256' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setSubject('sub-mallory')
      .setExpirationTime('5m')
      .sign(privateKey);
    assert.deepEqual(await verifier.verify(forged), { ok: false, reason: 'bad signature' });
  });

  it('refuses alg none and HMAC keyed with the public key', async () => {
    const unsigned = new UnsecuredJWT({ typ: 'Bearer' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setSubject('sub-mallory')
      .setExpirationTime('5m')
      .encode();
    assert.deepEqual(await verifier.verify(unsigned), { ok: false, reason: 'bad signature' });

    const jwks = (await (await fetch(idp.jwksUri)).json()) as { keys: { n: string }[] };
    const hmacKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const confused = await new SignJWT({ typ: 'Bearer' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1-RS256' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setSubject('sub-mallory')
      .setExpirationTime('5m')
      .sign(hmacKey);
    assert.deepEqual(await verifier.verify(confused), { ok: false, reason: 'bad signature' });
  });

  it('refuses garbage, ID tokens and tokens without a subject', async () => {
    assert.deepEqual(await verifier.verify('not-a-jwt'), { ok: false, reason: 'malformed token' });
    assert.deepEqual(await verifier.verify(await idp.token('carol', { claims: { typ: 'ID' } })), {
      ok: false,
      reason: 'not an access token',
    });
    assert.deepEqual(await verifier.verify(await idp.token('carol', { claims: { sub: undefined } })), {
      ok: false,
      reason: 'malformed token',
    });
  });

  it('fetches the key set again when a token names a new key (rotation), ES256 included', async () => {
    const fetchesBefore = idp.jwksFetches;
    await idp.addKey('ES256');
    const result = await verifier.verify(await idp.token('carol'));
    assert.ok(result.ok, JSON.stringify(result));
    assert.ok(idp.jwksFetches > fetchesBefore);
  });

  it('refuses everything when the snapshot carries no identity settings', async () => {
    const bare = new TokenVerifier(new MemorySnapshots(undefined));
    assert.deepEqual(await bare.verify(await idp.token('carol')), {
      ok: false,
      reason: 'identity provider not configured',
    });
  });
});

describe('TokenVerifier: tokens verified before', () => {
  let idp: TestIdp;

  before(async () => {
    idp = await TestIdp.start();
  });
  after(() => idp.close());

  it('answers a token again without verifying it, until exp plus the skew, then "token expired" as verifying would', async () => {
    let now = Date.now();
    const clock = () => new Date(now);
    const snapshots = new MemorySnapshots(snapshotFor(idp));
    const remembering = new TokenVerifier(snapshots, { now: clock });
    const verifying = new TokenVerifier(snapshots, { now: clock, rememberedTokens: 0 });
    const exp = Math.floor(now / 1000) + 60;
    const token = await idp.token('carol', { issuedAt: exp - 60, expiresIn: 60 });
    const first = await remembering.verify(token);
    assert.ok(first.ok);
    assert.equal(remembering.knownIdentity(token), first.identity, 'remembered');
    assert.equal(verifying.knownIdentity(token), undefined, 'rememberedTokens: 0 remembers nothing');

    now = (exp + 5) * 1000 - 1; // the last millisecond within the snapshot's 5 s skew
    const late = await remembering.verify(token);
    assert.ok(late.ok);
    assert.equal(late.identity, first.identity, 'answered from memory');
    assert.equal((await verifying.verify(token)).ok, true);

    now = (exp + 5) * 1000;
    assert.equal(remembering.knownIdentity(token), undefined);
    assert.deepEqual(await remembering.verify(token), { ok: false, reason: 'token expired' });
    assert.deepEqual(await verifying.verify(token), { ok: false, reason: 'token expired' });
  });

  it('verifies again when the identity settings change; snapshots with the same settings keep what it knows', async () => {
    const snapshots = new MemorySnapshots(snapshotFor(idp));
    const verifier = new TokenVerifier(snapshots);
    const token = await idp.token('dave');
    const first = await verifier.verify(token);
    assert.ok(first.ok);

    snapshots.apply(
      snapshotFor(idp, { grants: [{ id: 'g', connectionId: 'c', group: 'x', subject: '', expiresAt: undefined }] }),
    );
    assert.equal(verifier.knownIdentity(token), first.identity, 'same settings in a new snapshot');

    snapshots.apply(snapshotFor(idp, { identity: { ...idp.settings(), audiences: ['another-app'] } }));
    assert.equal(verifier.knownIdentity(token), undefined);
    assert.deepEqual(await verifier.verify(token), { ok: false, reason: 'wrong audience' });

    // Refusals are not remembered: back to the old audience, the same token passes again.
    snapshots.apply(snapshotFor(idp));
    assert.equal((await verifier.verify(token)).ok, true);

    snapshots.apply(snapshotFor(idp, { identity: undefined }));
    assert.deepEqual(await verifier.verify(token), { ok: false, reason: 'identity provider not configured' });
  });

  it('remembers at most rememberedTokens, the least recently used goes first', async () => {
    const verifier = new TokenVerifier(new MemorySnapshots(snapshotFor(idp)), { rememberedTokens: 2 });
    const [a, b, c] = await Promise.all(['ann', 'bob', 'cid'].map((user) => idp.token(user)));
    assert.ok((await verifier.verify(a!)).ok);
    assert.ok((await verifier.verify(b!)).ok);
    assert.ok(verifier.knownIdentity(a!), 'a used again: b is now the least recently used');
    assert.ok((await verifier.verify(c!)).ok);
    assert.equal(verifier.knownIdentity(b!), undefined);
    assert.equal(verifier.knownIdentity(a!)?.username, 'ann');
    assert.equal(verifier.knownIdentity(c!)?.username, 'cid');
  });

  it('stops answering from memory for a token whose key the IdP withdrew, once the key set is fetched again', async () => {
    const verifier = new TokenVerifier(new MemorySnapshots(snapshotFor(idp)), { jwksCooldownMs: 0 });
    const leakedKid = await idp.addKey('RS256');
    const signedByLeakedKey = await idp.token('erin');
    assert.ok((await verifier.verify(signedByLeakedKey)).ok);

    await idp.addKey('ES256');
    idp.withdrawKey(leakedKid);
    assert.ok(verifier.knownIdentity(signedByLeakedKey), 'still answered from memory until the key set is fetched again');
    // Any token naming the new key makes the agent fetch the key set.
    assert.ok((await verifier.verify(await idp.token('erin'))).ok);
    assert.equal(verifier.knownIdentity(signedByLeakedKey), undefined);
    assert.deepEqual(await verifier.verify(signedByLeakedKey), { ok: false, reason: 'bad signature' });
  });

  it('fetches the key set in the background, so a withdrawn key stops remembered tokens with no new token coming', async () => {
    const verifier = new TokenVerifier(new MemorySnapshots(snapshotFor(idp)), { jwksMaxAgeMs: 200 });
    const leakedKid = await idp.addKey('RS256');
    const token = await idp.token('fay');
    const first = await verifier.verify(token);
    assert.ok(first.ok);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(verifier.knownIdentity(token), first.identity, 'still published: still answered from memory');

    await idp.addKey('ES256');
    idp.withdrawKey(leakedKid);
    const fetches = idp.jwksFetches;
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(idp.jwksFetches > fetches, 'fetched again without any verification');
    assert.equal(verifier.knownIdentity(token), undefined);
  });

  it('keeps answering remembered tokens from the last key set while the IdP cannot be reached', async () => {
    const away = await TestIdp.start();
    const verifier = new TokenVerifier(new MemorySnapshots(snapshotFor(away)), { jwksMaxAgeMs: 200 });
    const token = await away.token('gus');
    const first = await verifier.verify(token);
    assert.ok(first.ok);
    await away.close();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(verifier.knownIdentity(token), first.identity);
  });
});

describe('checkAccess', () => {
  const connection = {
    id: 'c1',
    name: 'sales',
    kind: 'postgres',
    target: '',
    credential: undefined,
    networkLabels: [],
    options: undefined,
  };
  const carol = { subject: 'sub-carol', username: 'carol', groups: ['analysts'] };
  const now = new Date('2026-01-01T00:00:00Z');
  const base: ConfigSnapshot = {
    version: 1,
    connections: [connection],
    grants: [{ id: 'g1', connectionId: 'c1', group: 'analysts', subject: '', expiresAt: undefined }],
    identity: undefined,
    disabledIdentities: [],
    generatedAt: undefined,
  };

  it('allows through a group grant, and through a subject grant', () => {
    assert.equal(checkAccess(base, carol, 'sales', 'postgres', now).ok, true);
    const bySubject = {
      ...base,
      grants: [{ id: 'g2', connectionId: 'c1', group: '', subject: 'sub-carol', expiresAt: undefined }],
    };
    assert.equal(checkAccess(bySubject, { ...carol, groups: [] }, 'sales', 'postgres', now).ok, true);
  });

  it('refuses an unknown connection, a connection of another kind, an expired grant, no grant', () => {
    assert.deepEqual(checkAccess(base, carol, 'nope', 'postgres', now), {
      ok: false,
      kind: 'unknown-connection',
      reason: 'connection "nope" does not exist',
    });
    assert.equal(checkAccess(base, carol, 'sales', 'http', now).ok, false);
    const expired = { ...base, grants: [{ ...base.grants[0]!, expiresAt: new Date('2025-12-31T23:59:59Z') }] };
    assert.deepEqual(checkAccess(expired, carol, 'sales', 'postgres', now), {
      ok: false,
      kind: 'no-grant',
      reason: 'no grant on sales',
    });
    assert.equal(checkAccess(base, { ...carol, groups: ['ci'] }, 'sales', 'postgres', now).ok, false);
    assert.equal(checkAccess(undefined, carol, 'sales', 'postgres', now).ok, false);
  });

  it('refuses a disabled identity even with a grant', () => {
    const disabled = { ...base, disabledIdentities: [{ subject: 'sub-carol', username: 'carol', reason: 'left' }] };
    assert.deepEqual(checkAccess(disabled, carol, 'sales', 'postgres', now), {
      ok: false,
      kind: 'disabled',
      reason: 'identity carol is disabled',
    });
  });
});
