import {
  OverviewStats,
  AgentList,
  AgentView,
  AuditPage,
  ConnectionEndpoints,
  ConnectionList,
  ConnectionTestResult,
  ConnectionView,
  EventPage,
  GrantList,
  GrantView,
  IdentityPage,
  IdentityView,
  PolicyPreview,
  PolicyVersionList,
  PolicyView,
  RegisteredAgent,
  SessionPage,
  SessionView,
  type AuditQuery,
  type CreateConnection,
  type CreateGrant,
  type DisableIdentity,
  type EnableIdentity,
  type GrantQuery,
  type IdentityQuery,
  type PolicyDocument,
  type RegisterAgent,
  type SessionQuery,
  type UpdateConnection,
} from '@portcullis/api';
import type { ApiClient } from './client.js';
import { TraceView } from './pending-schemas.js';

const seg = encodeURIComponent;

/** Every REST call the console makes, in one place, typed by the shared schemas. */
export function endpoints(api: ApiClient) {
  return {
    agents: {
      list: () => api.get('/agents', { schema: AgentList }),
      register: (body: RegisterAgent) => api.post('/agents', { body, schema: RegisteredAgent }),
      revoke: (id: string) => api.post(`/agents/${seg(id)}/revoke`, { schema: AgentView }),
    },
    connections: {
      list: () => api.get('/connections', { schema: ConnectionList }),
      get: (name: string) => api.get(`/connections/${seg(name)}`, { schema: ConnectionView }),
      create: (body: CreateConnection) => api.post('/connections', { body, schema: ConnectionView }),
      update: (name: string, body: UpdateConnection) =>
        api.patch(`/connections/${seg(name)}`, { body, schema: ConnectionView }),
      remove: (name: string) => api.delete(`/connections/${seg(name)}`),
      test: (name: string) => api.post(`/connections/${seg(name)}/test`, { schema: ConnectionTestResult }),
      /** The online agents serving it, as the control plane resolves labels. */
      endpoints: (name: string) => api.get(`/connections/${seg(name)}/endpoints`, { schema: ConnectionEndpoints }),
    },
    grants: {
      list: (query: Partial<GrantQuery>) =>
        api.get('/grants', { query: { ...query, expired: query.expired?.toString() }, schema: GrantList }),
      create: (body: CreateGrant) => api.post('/grants', { body, schema: GrantView }),
      remove: (id: string) => api.delete(`/grants/${seg(id)}`),
    },
    sessions: {
      list: (query: Partial<SessionQuery>) => api.get('/sessions', { query, schema: SessionPage }),
      get: (id: string) => api.get(`/sessions/${seg(id)}`, { schema: SessionView }),
      events: (id: string, after: number | undefined, limit: number) =>
        api.get(`/sessions/${seg(id)}/events`, { query: { after, limit }, schema: EventPage }),
    },
    traces: {
      get: (id: string) => api.get(`/traces/${seg(id)}`, { schema: TraceView }),
    },
    audit: {
      list: (query: Partial<AuditQuery>) => api.get('/audit', { query, schema: AuditPage }),
    },
    identities: {
      list: (query: Partial<IdentityQuery>) =>
        api.get('/identities', { query: { ...query, disabled: query.disabled?.toString() }, schema: IdentityPage }),
      get: (subject: string) => api.get(`/identities/${seg(subject)}`, { schema: IdentityView }),
      disable: (subject: string, body: DisableIdentity) =>
        api.post(`/identities/${seg(subject)}/disable`, { body, schema: IdentityView }),
      enable: (subject: string, body: EnableIdentity) =>
        api.post(`/identities/${seg(subject)}/enable`, { body, schema: IdentityView }),
    },
    policies: {
      current: () => api.get('/policies', { schema: PolicyView }),
      save: (policy: PolicyDocument) => api.put('/policies', { body: policy, schema: PolicyView }),
      rollback: (version: number) => api.post('/policies/rollback', { body: { version }, schema: PolicyView }),
      versions: () => api.get('/policies/versions', { schema: PolicyVersionList }),
      preview: (body: { sql?: string; text?: string; policy?: PolicyDocument }, signal?: AbortSignal) =>
        api.post('/policies/preview', { body, schema: PolicyPreview, signal }),
    },
    overview: {
      stats: () => api.get('/overview', { query: { window: '1h' }, schema: OverviewStats }),
    },
  };
}

export type Endpoints = ReturnType<typeof endpoints>;
