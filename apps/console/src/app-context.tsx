import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { AuthSession, AuthState } from './auth/auth-session.js';
import type { Endpoints } from './api/endpoints.js';
import type { ConsoleConfig } from './config.js';
import type { User } from './auth/claims.js';

interface AppServices {
  config: ConsoleConfig;
  auth: AuthSession;
  api: Endpoints;
}

const AppContext = createContext<AppServices | null>(null);

export function AppProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <AppContext.Provider value={services}>{children}</AppContext.Provider>;
}

function useServices(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('AppProvider is missing');
  return services;
}

export const useApi = (): Endpoints => useServices().api;
export const useConfig = (): ConsoleConfig => useServices().config;
export const useAuthSession = (): AuthSession => useServices().auth;

export function useAuthState(): AuthState {
  const auth = useAuthSession();
  return useSyncExternalStore(auth.subscribe, auth.getState);
}

/** The signed-in user; pages render only inside the signed-in shell. */
export function useUser(): User {
  const state = useAuthState();
  if (state.status !== 'signed-in') throw new Error('useUser outside the signed-in shell');
  return state.user;
}
