import { z } from 'zod';
import { Labels, Name } from './common.js';

export const ConnectionKind = z.enum(['postgres', 'http']);
export type ConnectionKind = z.infer<typeof ConnectionKind>;

/**
 * Write-only credential. A secret reference is resolved by the agent from its own environment or
 * files; a value is sealed at rest in the control plane and never returned.
 */
export const CredentialInput = z.union([
  z.strictObject({
    secretRef: z
      .string()
      .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S+)$/, 'must be env:NAME or file:/absolute/path'),
  }),
  z.strictObject({ value: z.string().min(1, 'must not be empty').max(4096) }),
]);
export type CredentialInput = z.infer<typeof CredentialInput>;

const connectionFields = {
  name: Name,
  kind: ConnectionKind,
  target: z.string().min(1).max(2048),
  networkLabels: Labels.default(['default']),
  credential: CredentialInput.nullable().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
  description: z.string().max(500).optional(),
};

/**
 * What is wrong with a target for a kind, as messages about the `target` field. Targets carry no
 * secrets: a password in the URL would be returned by every read.
 */
export function targetProblems(kind: ConnectionKind, target: string): string[] {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return ['must be a URL'];
  }
  const problems: string[] = [];
  const protocols = kind === 'postgres' ? ['postgres:', 'postgresql:'] : ['http:', 'https:'];
  if (!protocols.includes(url.protocol)) problems.push(`must start with ${protocols.join(' or ')}//`);
  if (url.password) problems.push('must not contain a password; use credential');
  if (kind === 'postgres' && url.pathname.replace(/^\//, '') === '') problems.push('must name a database');
  return problems;
}

function checkTarget(c: { kind?: ConnectionKind; target?: string }, ctx: z.RefinementCtx): void {
  if (c.target === undefined || c.kind === undefined) return;
  for (const message of targetProblems(c.kind, c.target)) ctx.addIssue({ code: 'custom', path: ['target'], message });
}

export const CreateConnection = z.strictObject(connectionFields).superRefine(checkTarget);
export type CreateConnection = z.infer<typeof CreateConnection>;

export const UpdateConnection = z
  .strictObject({
    kind: connectionFields.kind.optional(),
    target: connectionFields.target.optional(),
    networkLabels: Labels.optional(),
    credential: connectionFields.credential,
    options: z.record(z.string(), z.unknown()).optional(),
    description: connectionFields.description,
  })
  .superRefine(checkTarget);
export type UpdateConnection = z.infer<typeof UpdateConnection>;

export const CredentialView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('secretRef'), ref: z.string() }),
  z.object({ type: z.literal('value'), set: z.literal(true) }),
]);

export const ConnectionView = z.object({
  id: z.string(),
  name: z.string(),
  kind: ConnectionKind,
  target: z.string(),
  networkLabels: z.array(z.string()),
  credential: CredentialView.nullable(),
  options: z.record(z.string(), z.unknown()),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ConnectionView = z.infer<typeof ConnectionView>;

export const ConnectionList = z.object({ items: z.array(ConnectionView) });
export type ConnectionList = z.infer<typeof ConnectionList>;
