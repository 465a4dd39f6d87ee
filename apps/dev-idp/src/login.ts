import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { loginPage, messagePage } from './pages.js';
import type { Realm } from './realm.js';

const MAX_FORM_BYTES = 16 * 1024;

/**
 * The sign-in step of the interactive flows (authorization code, device verification): shows a
 * form and checks the password against the realm file. Consent is implied for the realm's clients.
 */
export function createLoginHandler(provider: Provider, realm: Realm) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      return send(
        res,
        400,
        messagePage('Sign-in expired', 'This sign-in request is no longer valid. Start again from the application.'),
      );
    }
    const client = await provider.Client.find(String(details.params.client_id));
    const clientName = client?.clientName ?? String(details.params.client_id);
    const action = req.url!.split('?')[0]!;

    if (details.prompt.name !== 'login') {
      // Only reached when a grant is missing something loadExistingGrant did not add.
      const grant = new provider.Grant({
        clientId: String(details.params.client_id),
        accountId: details.session!.accountId,
      });
      if (typeof details.params.scope === 'string') grant.addOIDCScope(details.params.scope);
      return provider.interactionFinished(
        req,
        res,
        { consent: { grantId: await grant.save() } },
        { mergeWithLastSubmission: true },
      );
    }
    if (req.method === 'GET') return send(res, 200, loginPage({ action, clientName }));
    if (req.method !== 'POST') return send(res, 405, messagePage('Not allowed', 'Use the sign-in form.'));

    let form: URLSearchParams;
    try {
      form = new URLSearchParams(await readBody(req));
    } catch {
      return send(res, 413, messagePage('Request too large', 'The sign-in form was too large.'));
    }
    const login = form.get('username') ?? '';
    const user = realm.authenticate(login, form.get('password') ?? '');
    if (!user) {
      return send(res, 401, loginPage({ action, clientName, login, error: 'Invalid username or password.' }));
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  };
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
