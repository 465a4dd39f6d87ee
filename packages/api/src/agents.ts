import { z } from 'zod';
import { Labels, Name } from './common.js';

export const RegisterAgent = z.strictObject({
  name: Name,
  labels: Labels.default(['default']),
});
export type RegisterAgent = z.infer<typeof RegisterAgent>;

export const AgentAddress = z.object({ protocol: z.string(), address: z.string() });

export const AgentView = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  status: z.enum(['online', 'offline', 'revoked']),
  version: z.string().nullable(),
  hostname: z.string().nullable(),
  addresses: z.array(AgentAddress),
  lastSeenAt: z.string().nullable(),
  configVersionAcked: z.number(),
  configError: z.string().nullable(),
  liveSessions: z.number(),
  createdAt: z.string(),
});
export type AgentView = z.infer<typeof AgentView>;

/** Returned once, at registration: the token is stored only as a hash. */
export const RegisteredAgent = AgentView.extend({ token: z.string() });
export type RegisteredAgent = z.infer<typeof RegisteredAgent>;

export const AgentList = z.object({ items: z.array(AgentView) });
export type AgentList = z.infer<typeof AgentList>;
