import { z } from 'zod';
import { AgentAddress } from './agents.js';
import { ConnectionKind } from './connections.js';

/** One connection the caller may use, and the grant that allows it. */
export const MyGrant = z.object({
  connection: z.string(),
  kind: ConnectionKind,
  /** `subject` for a grant to the caller itself, `group:<name>` for one to a group it is in. */
  via: z.string(),
  expiresAt: z.string().nullable(),
});
export type MyGrant = z.infer<typeof MyGrant>;

/** The caller, as the control plane sees its token, and what it may use now. */
export const Me = z.object({
  subject: z.string(),
  username: z.string().nullable(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  tokenExpiresAt: z.string().nullable(),
  grants: z.array(MyGrant),
});
export type Me = z.infer<typeof Me>;

/** The online agents that serve a connection, with the addresses they advertise. */
export const ConnectionEndpoints = z.object({
  connection: z.object({ name: z.string(), kind: ConnectionKind }),
  agents: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      labels: z.array(z.string()),
      addresses: z.array(AgentAddress),
    }),
  ),
});
export type ConnectionEndpoints = z.infer<typeof ConnectionEndpoints>;
