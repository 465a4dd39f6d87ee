import type { User } from '../auth/claims.js';
import { useAuthSession } from '../app-context.js';

/** Signed in, but none of the console's roles: say so, and what to ask for. */
export function NoAccessPage({ user }: { user: User }) {
  const auth = useAuthSession();
  return (
    <div className="center-screen">
      <div className="signin-card">
        <h1>No access to the console</h1>
        <p>
          You are signed in as <strong>{user.username}</strong>
          {user.groups.length > 0 && <> (groups: {user.groups.join(', ')})</>}, but the console is for people with the{' '}
          <strong>admin</strong>, <strong>steward</strong> or <strong>auditor</strong> role.
        </p>
        <p className="muted">
          You can still use the connections you were granted with <code>portcullis run</code> or{' '}
          <code>portcullis env</code>. If you need the console, ask an admin to give you a role in the identity
          provider.
        </p>
        <button type="button" className="button" onClick={() => void auth.logout()}>
          Sign out
        </button>
      </div>
    </div>
  );
}
