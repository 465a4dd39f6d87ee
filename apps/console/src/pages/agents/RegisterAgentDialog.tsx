import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { RegisterAgent, type RegisteredAgent } from '@portcullis/api';
import { useApi } from '../../app-context.js';
import { ApiFailure } from '../../api/errors.js';
import { CodeBlock, CopyButton, ErrorNotice, Field, Modal } from '../../components/ui.js';
import { problemsByField, type FieldProblems } from '../../lib/issues.js';
import { agentEnvSnippet, agentHelmSnippet } from '../../lib/snippets.js';

/** The agent's gRPC address as seen from its network; the console can only guess the host. */
const defaultGrpc = () => `${window.location.hostname}:8090`;

/**
 * Registers an agent and shows its token exactly once. The token lives in this dialog's state and
 * is dropped when the dialog closes; it is not cached or stored anywhere.
 */
export function RegisterAgentDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('default');
  const [grpc, setGrpc] = useState(defaultGrpc);
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [registered, setRegistered] = useState<RegisteredAgent | null>(null);
  const [busy, setBusy] = useState(false);

  const close = () => {
    setRegistered(null);
    setName('');
    setLabels('default');
    setProblems({});
    setFailure(null);
    onClose();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = RegisterAgent.safeParse({
      name: name.trim(),
      labels: labels
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    });
    if (!parsed.success) {
      setProblems(problemsByField(parsed.error.issues));
      return;
    }
    setProblems({});
    setFailure(null);
    setBusy(true);
    try {
      setRegistered(await api.agents.register(parsed.data));
      await queryClient.invalidateQueries({ queryKey: ['agents'] });
    } catch (error) {
      if (error instanceof ApiFailure) setProblems(problemsByField(error.issues));
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const snippetInput = registered && {
    name: registered.name,
    token: registered.token,
    labels: registered.labels,
    controlPlaneGrpc: grpc,
  };

  return (
    <Modal
      title={registered ? `Agent ${registered.name} registered` : 'Register an agent'}
      open={open}
      onClose={close}
      wide={!!registered}
    >
      {!snippetInput ? (
        <form className="form" onSubmit={(e) => void submit(e)}>
          <Field label="Name" problems={problems.name} hint="For example the network or cluster it runs in.">
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="eu-west-prod" autoFocus />
          </Field>
          <Field
            label="Network labels"
            problems={problems.labels}
            hint="Comma-separated. It serves connections that carry any of them."
          >
            <input value={labels} onChange={(e) => setLabels(e.target.value)} />
          </Field>
          {failure !== null && <ErrorNotice error={failure} what="register the agent" />}
          <div className="form-actions">
            <button type="button" className="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="button button-primary" disabled={busy}>
              Register
            </button>
          </div>
        </form>
      ) : (
        <div className="stack">
          <div className="notice notice-warn">
            <strong>Copy the token now.</strong> It is shown only this once; the control plane keeps only its hash. If
            it is lost, revoke this agent and register a new one.
          </div>
          <div className="token-row">
            <code className="token">{snippetInput.token}</code>
            <CopyButton text={snippetInput.token} label="Copy token" />
          </div>
          <Field label="Control plane gRPC address, as the agent reaches it">
            <input value={grpc} onChange={(e) => setGrpc(e.target.value)} />
          </Field>
          <CodeBlock label="Environment (systemd, docker --env-file)" code={agentEnvSnippet(snippetInput)} />
          <CodeBlock label="Kubernetes (Helm)" code={agentHelmSnippet(snippetInput)} />
          <div className="form-actions">
            <button type="button" className="button button-primary" onClick={close}>
              I saved the token
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
