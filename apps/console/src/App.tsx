import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { ApiFailure } from './api/errors.js';
import { AppProvider, useAuthState } from './app-context.js';
import type { AuthSession } from './auth/auth-session.js';
import { can } from './auth/capabilities.js';
import type { Endpoints } from './api/endpoints.js';
import type { ConsoleConfig } from './config.js';
import { Layout } from './components/Layout.js';
import { RequireCapability } from './components/RequireCapability.js';
import { SignInPage } from './pages/SignInPage.js';
import { NoAccessPage } from './pages/NoAccessPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { OverviewPage } from './pages/overview/OverviewPage.js';
import { ConnectionsPage } from './pages/connections/ConnectionsPage.js';
import { ConnectionPage } from './pages/connections/ConnectionPage.js';
import { ConnectionFormPage } from './pages/connections/ConnectionFormPage.js';
import { AgentsPage } from './pages/agents/AgentsPage.js';
import { IdentitiesPage } from './pages/identities/IdentitiesPage.js';
import { IdentityPage } from './pages/identities/IdentityPage.js';
import { GrantsPage } from './pages/grants/GrantsPage.js';
import { PoliciesPage } from './pages/policies/PoliciesPage.js';
import { SessionsPage } from './pages/sessions/SessionsPage.js';
import { SessionReplayPage } from './pages/sessions/SessionReplayPage.js';
import { TracePage } from './pages/sessions/TracePage.js';
import { AuditPage } from './pages/audit/AuditPage.js';

/** Errors that will not go away by asking again. */
const FINAL = new Set(['forbidden', 'missing-endpoint', 'not-found', 'invalid', 'contract', 'signed-out']);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (count, error) => !(error instanceof ApiFailure && FINAL.has(error.kind)) && count < 2,
      staleTime: 5_000,
    },
  },
});

const inventory = (page: React.ReactNode) => <RequireCapability capability="viewInventory">{page}</RequireCapability>;
const recordings = (page: React.ReactNode) => <RequireCapability capability="viewRecordings">{page}</RequireCapability>;
const manage = (page: React.ReactNode) => <RequireCapability capability="manage">{page}</RequireCapability>;

const routes = [
  {
    element: <Layout />,
    children: [
      { index: true, element: inventory(<OverviewPage />) },
      { path: 'connections', element: inventory(<ConnectionsPage />) },
      { path: 'connections/new', element: manage(<ConnectionFormPage />) },
      { path: 'connections/:name', element: inventory(<ConnectionPage />) },
      { path: 'connections/:name/edit', element: manage(<ConnectionFormPage />) },
      { path: 'agents', element: inventory(<AgentsPage />) },
      { path: 'identities', element: recordings(<IdentitiesPage />) },
      { path: 'identities/:subject', element: recordings(<IdentityPage />) },
      { path: 'grants', element: inventory(<GrantsPage />) },
      { path: 'policies', element: inventory(<PoliciesPage />) },
      { path: 'sessions', element: recordings(<SessionsPage />) },
      { path: 'sessions/:id', element: recordings(<SessionReplayPage />) },
      { path: 'traces/:id', element: recordings(<TracePage />) },
      { path: 'audit', element: recordings(<AuditPage />) },
      { path: 'callback', element: <Navigate to="/" replace /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

/**
 * Built on first render, not at import: main.tsx first finishes a login on /callback and moves the
 * URL to where the user was going, and the router must start from that URL.
 */
let router: ReturnType<typeof createBrowserRouter> | undefined;
const getRouter = () => (router ??= createBrowserRouter(routes));

function Shell() {
  const state = useAuthState();
  if (state.status === 'starting') return null;
  if (state.status === 'signed-out') return <SignInPage reason={state.reason} />;
  if (!can(state.user, 'viewInventory')) return <NoAccessPage user={state.user} />;
  return <RouterProvider router={getRouter()} />;
}

export function App({ services }: { services: { config: ConsoleConfig; auth: AuthSession; api: Endpoints } }) {
  return (
    <AppProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <Shell />
      </QueryClientProvider>
    </AppProvider>
  );
}
