import { useState } from 'react';
import { useAuthSession, useConfig } from '../app-context.js';
import { describeError } from '../api/errors.js';

export function SignInPage({ reason }: { reason: string | null }) {
  const auth = useAuthSession();
  const config = useConfig();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const signIn = () => {
    setBusy(true);
    setError(null);
    const here = window.location.pathname + window.location.search;
    auth.login(here === '/callback' ? '/' : here).catch((e: unknown) => {
      setError(e);
      setBusy(false);
    });
  };
  return (
    <div className="center-screen">
      <div className="signin-card">
        <div className="brand brand-large">
          <svg viewBox="0 0 24 24" width={32} height={32} aria-hidden>
            <rect x={2} y={2} width={20} height={20} rx={4} className="brand-mark" />
            <path d="M7 6v13M12 6v13M17 6v13M6 10h12M6 15h12" className="brand-bars" />
          </svg>
          <span>Portcullis</span>
        </div>
        <p className="muted">Govern who reaches your data, and replay what they did.</p>
        {reason && <div className="notice notice-info">{reason}</div>}
        {error !== null && (
          <div className="notice notice-error" role="alert">
            {describeError(error)}
          </div>
        )}
        <button type="button" className="button button-primary button-block" onClick={signIn} disabled={busy}>
          {busy ? 'Redirecting…' : 'Sign in'}
        </button>
        <p className="fine-print muted">
          Signs in with <code>{config.issuer}</code>
        </p>
      </div>
    </div>
  );
}
