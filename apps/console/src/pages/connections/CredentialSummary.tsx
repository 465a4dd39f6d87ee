import type { ConnectionView } from '@portcullis/api';

/** What the API tells about a credential: a reference's name, or only that a value is set. */
export function CredentialSummary({ credential }: { credential: ConnectionView['credential'] }) {
  if (!credential) return <span className="muted">none</span>;
  if (credential.type === 'secretRef') return <code>{credential.ref}</code>;
  return <span title="Stored sealed by the control plane; it is never shown again">value set ••••</span>;
}
