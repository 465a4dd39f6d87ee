import { useEffect, useState, type FormEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ConnectionKind, CreateConnection, UpdateConnection, type ConnectionView } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import { Card, ErrorNotice, Field, Loading, PageHeader } from '../../components/ui.js';
import { problemsByField, type FieldProblems } from '../../lib/issues.js';
import { CredentialSummary } from './CredentialSummary.js';

/** Examples per kind; kinds come from the shared schema, so a new kind needs no change here. */
const TARGET_EXAMPLES: Record<string, string> = {
  postgres: 'postgres://db.internal:5432/app?sslmode=require',
  http: 'https://api.internal.example.com',
  llm: 'https://llm.internal.example.com/v1',
  'vector-http': 'http://vectors.internal.example.com:6333',
};

type CredentialMode = 'keep' | 'none' | 'secretRef' | 'value';

interface FormState {
  name: string;
  kind: ConnectionKind;
  target: string;
  networkLabels: string;
  description: string;
  options: string;
  credentialMode: CredentialMode;
  secretRef: string;
  /** Held in this component's state only while the form is open; cleared on save. */
  secretValue: string;
}

const blank: FormState = {
  name: '',
  kind: ConnectionKind.options[0]!,
  target: '',
  networkLabels: 'default',
  description: '',
  options: '{}',
  credentialMode: 'secretRef',
  secretRef: '',
  secretValue: '',
};

function fromConnection(c: ConnectionView): FormState {
  return {
    ...blank,
    name: c.name,
    kind: c.kind,
    target: c.target,
    networkLabels: c.networkLabels.join(', '),
    description: c.description ?? '',
    options: JSON.stringify(c.options, null, 2),
    credentialMode: 'keep',
  };
}

export function ConnectionFormPage() {
  const { name } = useParams();
  const editing = name !== undefined;
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const existing = useQuery({
    queryKey: ['connection', name],
    queryFn: () => api.connections.get(name!),
    enabled: editing,
  });
  const [form, setForm] = useState<FormState>(blank);
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  // Fill the form once: a background refetch must not wipe what the admin is typing.
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    if (existing.data && !loaded) {
      setForm(fromConnection(existing.data));
      setLoaded(true);
    }
  }, [existing.data, loaded]);

  if (editing && existing.error)
    return (
      <div className="page">
        <ErrorNotice error={existing.error} what={`load connection ${name}`} />
      </div>
    );
  if (editing && !existing.data)
    return (
      <div className="page">
        <Loading />
      </div>
    );

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));

  const credential = () => {
    switch (form.credentialMode) {
      case 'keep':
        return undefined;
      case 'none':
        return null;
      case 'secretRef':
        return { secretRef: form.secretRef.trim() };
      case 'value':
        return { value: form.secretValue };
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    let options: unknown;
    try {
      options = JSON.parse(form.options || '{}');
    } catch (error) {
      setProblems({ options: [`is not valid JSON: ${(error as Error).message}`] });
      return;
    }
    const fields = {
      kind: form.kind,
      target: form.target.trim(),
      networkLabels: form.networkLabels
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
      credential: credential(),
      options,
      description: form.description.trim() || undefined,
    };
    const parsed = editing
      ? UpdateConnection.safeParse(fields)
      : CreateConnection.safeParse({ name: form.name.trim(), ...fields });
    if (!parsed.success) {
      setProblems(problemsByField(parsed.error.issues));
      return;
    }
    setProblems({});
    setSaving(true);
    try {
      const saved = editing
        ? await api.connections.update(name, parsed.data as UpdateConnection)
        : await api.connections.create(parsed.data as CreateConnection);
      setForm((f) => ({ ...f, secretValue: '' }));
      await queryClient.invalidateQueries({ queryKey: ['connections'] });
      queryClient.setQueryData(['connection', saved.name], saved);
      void navigate(`/connections/${saved.name}`);
    } catch (error) {
      if (error instanceof ApiFailure && error.issues.length > 0) setProblems(problemsByField(error.issues));
      setFailure(error);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="page page-narrow">
      <PageHeader
        title={editing ? `Edit ${name}` : 'New connection'}
        description="Clients reach it by name through an agent in one of its networks; the agent holds the credential."
      />
      <form onSubmit={(e) => void submit(e)} className="form" autoComplete="off" noValidate>
        <Card title="Upstream">
          <div className="form-grid">
            <Field
              label="Name"
              problems={problems.name}
              hint="Lower-case letters, digits and dashes. Used as the database name or URL prefix by clients."
            >
              <input
                value={form.name}
                onChange={(e) => set('name', e.target.value)}
                disabled={editing}
                placeholder="orders-db"
                required
              />
            </Field>
            <Field label="Kind" problems={problems.kind}>
              <select value={form.kind} onChange={(e) => set('kind', e.target.value as ConnectionKind)}>
                {ConnectionKind.options.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <Field label="Target" problems={problems.target} hint="No password in the URL: use the credential below.">
            <input
              value={form.target}
              onChange={(e) => set('target', e.target.value)}
              placeholder={TARGET_EXAMPLES[form.kind] ?? 'https://…'}
            />
          </Field>
          <Field
            label="Network labels"
            problems={problems.networkLabels}
            hint="Comma-separated. Agents with any of these labels serve the connection."
          >
            <input
              value={form.networkLabels}
              onChange={(e) => set('networkLabels', e.target.value)}
              placeholder="eu-west, prod"
            />
          </Field>
          <Field label="Description" problems={problems.description}>
            <input
              value={form.description}
              onChange={(e) => set('description', e.target.value)}
              placeholder="What it holds, who owns it"
            />
          </Field>
        </Card>

        <Card title="Credential">
          <p className="muted small">
            Write-only: the control plane never returns it, and this console never shows or stores it.
            {editing && existing.data && (
              <>
                {' '}
                Current: <CredentialSummary credential={existing.data.credential} />
              </>
            )}
          </p>
          <div className="segmented" role="radiogroup" aria-label="Credential">
            {(editing
              ? (['keep', 'secretRef', 'value', 'none'] as const)
              : (['secretRef', 'value', 'none'] as const)
            ).map((mode) => (
              <label key={mode} className={form.credentialMode === mode ? 'active' : ''}>
                <input
                  type="radio"
                  name="credentialMode"
                  checked={form.credentialMode === mode}
                  onChange={() => set('credentialMode', mode)}
                />
                {{ keep: 'Keep current', secretRef: 'Secret reference', value: 'Value', none: 'None' }[mode]}
              </label>
            ))}
          </div>
          {form.credentialMode === 'secretRef' && (
            <Field
              label="Secret reference"
              problems={problems.credential}
              hint="Resolved by the agent from its environment (env:NAME) or a mounted file (file:/path)."
            >
              <input
                value={form.secretRef}
                onChange={(e) => set('secretRef', e.target.value)}
                placeholder="env:ORDERS_DB_PASSWORD"
                spellCheck={false}
              />
            </Field>
          )}
          {form.credentialMode === 'value' && (
            <Field
              label="Secret value"
              problems={problems.credential}
              hint="Sealed at rest by the control plane and sent only to agents."
            >
              <input
                type="password"
                value={form.secretValue}
                onChange={(e) => set('secretValue', e.target.value)}
                autoComplete="new-password"
                spellCheck={false}
                data-1p-ignore
              />
            </Field>
          )}
        </Card>

        <details className="card advanced">
          <summary>Advanced options</summary>
          <Field label="Options (JSON)" problems={problems.options} hint="Kind-specific settings passed to the agent.">
            <textarea
              className="mono"
              rows={5}
              value={form.options}
              onChange={(e) => set('options', e.target.value)}
              spellCheck={false}
            />
          </Field>
        </details>

        {problems.form && <div className="notice notice-error">{problems.form.join(' ')}</div>}
        {failure !== null && (
          <ErrorNotice error={failure} what={editing ? 'save the connection' : 'create the connection'} />
        )}
        <div className="form-actions">
          <Link className="button" to={editing ? `/connections/${name}` : '/connections'}>
            Cancel
          </Link>
          <button type="submit" className="button button-primary" disabled={saving}>
            {saving ? 'Saving…' : editing ? 'Save changes' : 'Create connection'}
          </button>
        </div>
      </form>
    </div>
  );
}
