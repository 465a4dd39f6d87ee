import type { ConfigSnapshot } from '@portcullis/proto';

/** A credential value that must never appear in clear on disk. */
export const PASSWORD = 'upstream-Pa55word-7c1f';

/** A valid snapshot: one connection per name, the first with a pushed value, the rest env refs. */
export function snapshotFixture(version: number, names = ['demo-pg']): ConfigSnapshot {
  return {
    version,
    connections: names.map((name, i) => ({
      id: `conn-${name}`,
      name,
      kind: 'postgres',
      target: `postgresql://app@127.0.0.1:5432/db${i}`,
      credential: { source: i === 0 ? { $case: 'value', value: PASSWORD } : { $case: 'secretRef', value: 'env:DB_PASSWORD' } },
      networkLabels: ['default'],
      options: { profile: 'readonly' },
    })),
    grants: names.map((name) => ({ id: `grant-${name}`, connectionId: `conn-${name}`, group: 'analysts', subject: '', expiresAt: undefined })),
    identity: { issuer: 'http://127.0.0.1:8180/realms/portcullis', audiences: ['portcullis'], jwksUri: 'http://127.0.0.1:8180/realms/portcullis/protocol/openid-connect/certs', clockSkewSeconds: 30 },
    disabledIdentities: [],
    generatedAt: new Date('2026-11-25T20:00:00Z'),
  };
}
