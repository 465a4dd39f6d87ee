import type { ReactNode } from 'react';
import { can, type Capability } from '../auth/capabilities.js';
import { useUser } from '../app-context.js';
import { EmptyState } from './ui.js';

const EXPLANATION: Record<Capability, string> = {
  viewInventory: 'Connections, agents, grants and policies are visible to admins, stewards and auditors.',
  viewRecordings: 'Identities, sessions, replays and the audit log are visible to admins and auditors.',
  manage: 'Only admins can change connections, agents, grants, identities and policies.',
};

/** A page a role may not open explains why, instead of failing on the first API call. */
export function RequireCapability({ capability, children }: { capability: Capability; children: ReactNode }) {
  const user = useUser();
  if (can(user, capability)) return <>{children}</>;
  return (
    <div className="page">
      <EmptyState title="Your role does not include this page">
        {EXPLANATION[capability]} Ask an admin if you need it.
      </EmptyState>
    </div>
  );
}
