import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from './api/client.js';
import { endpoints } from './api/endpoints.js';
import { AuthSession } from './auth/auth-session.js';
import { Oidc } from './auth/oidc.js';
import { loadConsoleConfig } from './config.js';
import { App } from './App.js';
import './styles.css';

const config = await loadConsoleConfig();
const auth = new AuthSession(new Oidc(config));
const returnTo = await auth.start();
// Leave /callback?code=… out of the history: the code is single-use and should not be bookmarked.
if (returnTo !== null) window.history.replaceState(null, '', returnTo);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App services={{ config, auth, api: endpoints(new ApiClient(auth)) }} />
  </StrictMode>,
);
