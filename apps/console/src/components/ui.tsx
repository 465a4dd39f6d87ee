import { cloneElement, useEffect, useId, useRef, useState, type ReactElement, type ReactNode } from 'react';
import { ApiFailure, describeError } from '../api/errors.js';

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <div className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** Colour for a policy decision or a session outcome. */
export function decisionTone(action: string | null | undefined): Tone {
  switch (action) {
    case 'allow':
    case 'ok':
    case 'closed':
      return 'good';
    case 'mask':
    case 'review':
      return 'warn';
    case 'block':
    case 'refused':
    case 'error':
    case 'killed':
    case 'disabled':
      return 'bad';
    default:
      return 'neutral';
  }
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="muted">{children}</div>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

/**
 * An API error shown where it happened: `what` completes "Could not …". A route the control plane
 * does not have yet gets a calm "not available" note instead, with `unavailable` saying what still
 * works.
 */
export function ErrorNotice({
  error,
  what,
  unavailable,
  onRetry,
}: {
  error: unknown;
  what: string;
  unavailable?: string;
  onRetry?: () => void;
}) {
  if (error instanceof ApiFailure && error.kind === 'missing-endpoint') {
    return (
      <div className="notice notice-info" role="status">
        <strong>Not available on this control plane yet.</strong> {unavailable && `${unavailable} `}
        <span className="muted">({error.message})</span>
      </div>
    );
  }
  return (
    <div className="notice notice-error" role="alert">
      <strong>Could not {what}.</strong> {describeError(error)}
      {onRetry && (
        <button type="button" className="link-button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden /> {label}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <button
      type="button"
      className="button button-small"
      onClick={() => void navigator.clipboard?.writeText(text).then(() => setCopied(true))}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

export function CodeBlock({ code, label }: { code: string; label?: string }) {
  return (
    <div className="code-block">
      <div className="code-block-bar">
        <span className="muted">{label}</span>
        <CopyButton text={code} />
      </div>
      <pre>{code}</pre>
    </div>
  );
}

/**
 * A labelled form control with its hint or problems. The label names the control alone; hint and
 * problems are its description, so screen readers (and tests) find the field by its label.
 */
export function Field({
  label,
  hint,
  problems = [],
  id: fixedId,
  children,
}: {
  label: string;
  hint?: ReactNode;
  problems?: string[];
  /** The control's id, when something else links to it (a summary of problems). */
  id?: string;
  children: ReactElement<{ id?: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }>;
}) {
  const generatedId = useId();
  const id = fixedId ?? generatedId;
  const noteId = `${id}-note`;
  return (
    <div className={`field ${problems.length > 0 ? 'field-invalid' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {cloneElement(children, { id, ...noteProps(noteId, problems, hint) })}
      <FieldNote id={noteId} problems={problems} hint={hint} />
    </div>
  );
}

/** What ties a control to its FieldNote, for controls Field cannot wrap (checkboxes, groups of them). */
export function noteProps(noteId: string, problems: string[], hint?: ReactNode) {
  return {
    'aria-describedby': problems.length > 0 || hint ? noteId : undefined,
    'aria-invalid': problems.length > 0 || undefined,
  };
}

/** A control's problems, or else its hint. */
export function FieldNote({ id, problems, hint }: { id: string; problems: string[]; hint?: ReactNode }) {
  if (problems.length === 0 && !hint) return null;
  return (
    <span id={id} className={problems.length > 0 ? 'field-problem' : 'field-hint'}>
      {problems.length > 0 ? problems.join(' · ') : hint}
    </span>
  );
}

/** A modal on the native <dialog>: focus trap, Escape and backdrop come with it. */
export function Modal({
  title,
  open,
  onClose,
  children,
  wide,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className={`modal ${wide ? 'modal-wide' : ''}`} onClose={onClose} aria-label={title}>
      {open && (
        <>
          <div className="modal-header">
            <h2>{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </div>
          <div className="modal-body">{children}</div>
        </>
      )}
    </dialog>
  );
}

/** Small stat tile for the overview. */
export function Stat({ label, value, tone, hint }: { label: string; value: ReactNode; tone?: Tone; hint?: ReactNode }) {
  return (
    <div className={`stat ${tone ? `stat-${tone}` : ''}`}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {hint && <span className="stat-hint muted">{hint}</span>}
    </div>
  );
}

export function Labels({ labels }: { labels: string[] }) {
  return (
    <span className="labels">
      {labels.map((l) => (
        <span key={l} className="label-chip">
          {l}
        </span>
      ))}
    </span>
  );
}
