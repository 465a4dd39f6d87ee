import type { ConfigSnapshot } from '@portcullis/proto';
import { z } from 'zod';

const secretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/, 'secretRef must be env:NAME or file:/absolute/path');

const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `target must be a ${protocols.join(' or ')} URL`);

const connection = z
  .object({
    id: z.string().min(1, 'connection id is empty'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'connection name must be 1-63 letters, digits, _ . - (used as database name and URL segment)'),
    kind: z.enum(['postgres', 'http', 'llm', 'vector-http']),
    target: z.string().min(1, 'target is empty'),
    credential: z
      .object({
        source: z
          .discriminatedUnion('$case', [
            z.object({ $case: z.literal('secretRef'), value: secretRef }),
            z.object({ $case: z.literal('value'), value: z.string() }),
          ])
          .optional(),
      })
      .optional(),
    networkLabels: z.array(z.string()),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((c, ctx) => {
    const check = c.kind === 'postgres' ? url(['postgres:', 'postgresql:']) : url(['http:', 'https:']);
    const result = check.safeParse(c.target);
    if (!result.success) ctx.addIssue({ code: 'custom', path: ['target'], message: result.error.issues[0]!.message });
  });

const grant = z
  .object({
    id: z.string().min(1),
    connectionId: z.string().min(1),
    group: z.string(),
    subject: z.string(),
    expiresAt: z.date().optional(),
  })
  .refine((g) => (g.group === '') !== (g.subject === ''), 'a grant names exactly one of group or subject');

const snapshotSchema = z
  .object({
    version: z.number().int().positive('version must be positive'),
    connections: z.array(connection),
    grants: z.array(grant),
    identity: z
      .object({
        issuer: z.url('identity.issuer must be a URL'),
        audiences: z.array(z.string().min(1)).min(1, 'identity.audiences is empty'),
        jwksUri: z.union([z.literal(''), z.url()]),
        clockSkewSeconds: z.number().int().min(0).max(600),
      })
      .optional(),
    disabledIdentities: z.array(z.object({ subject: z.string().min(1), username: z.string(), reason: z.string() })),
    generatedAt: z.date().optional(),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    const ids = new Set<string>();
    for (const [i, c] of s.connections.entries()) {
      if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['connections', i, 'name'], message: `duplicate connection name "${c.name}"` });
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['connections', i, 'id'], message: `duplicate connection id "${c.id}"` });
      names.add(c.name);
      ids.add(c.id);
    }
    for (const [i, g] of s.grants.entries()) {
      if (!ids.has(g.connectionId)) {
        ctx.addIssue({ code: 'custom', path: ['grants', i, 'connectionId'], message: `grant ${g.id} names unknown connection ${g.connectionId}` });
      }
    }
  });

/**
 * Structural checks a snapshot must pass before it replaces the one being served. Returns a
 * message naming the fields at fault (never credential values: zod messages do not echo input).
 */
export function validateSnapshot(snapshot: ConfigSnapshot): string | undefined {
  const result = snapshotSchema.safeParse(snapshot);
  if (result.success) return undefined;
  return result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || 'snapshot'}: ${issue.message}`)
    .join('; ');
}
