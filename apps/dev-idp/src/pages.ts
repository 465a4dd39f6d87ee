/** The few HTML pages a person sees in the interactive flows (sign-in, device code, errors). */

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const style = `
  *{box-sizing:border-box}
  body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
    font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f5;color:#1d2430}
  main{width:360px;background:#fff;border-radius:10px;box-shadow:0 4px 24px rgba(20,30,50,.12);padding:32px}
  h1{font-size:20px;margin:0 0 4px} p{margin:0 0 16px;color:#566070}
  .brand{font-weight:600;letter-spacing:.02em;color:#2f5bd3;margin-bottom:20px}
  .dev{background:#fff4d6;color:#7a5300;border-radius:6px;padding:6px 10px;font-size:13px;margin-bottom:20px}
  label{display:block;font-size:13px;font-weight:600;margin:12px 0 4px}
  input{width:100%;padding:9px 11px;border:1px solid #c8d0dc;border-radius:6px;font:inherit}
  input:focus{outline:2px solid #2f5bd3;border-color:transparent}
  button{width:100%;margin-top:20px;padding:10px;border:0;border-radius:6px;background:#2f5bd3;color:#fff;
    font:inherit;font-weight:600;cursor:pointer}
  button.secondary{background:#e4e8ef;color:#1d2430;margin-top:8px}
  .error{background:#fde8e8;color:#9b1c1c;border-radius:6px;padding:8px 10px;margin-bottom:12px;font-size:14px}
  code{font-size:18px;letter-spacing:.1em}
`;

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Portcullis</title><style>${style}</style></head>
<body><main><div class="brand">Portcullis</div>
<div class="dev">Development identity provider: not for production use.</div>
${body}</main></body></html>`;
}

export function loginPage(opts: { action: string; clientName: string; login?: string; error?: string }): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1><p>to continue to ${escapeHtml(opts.clientName)}</p>
${opts.error ? `<div class="error" role="alert">${escapeHtml(opts.error)}</div>` : ''}
<form method="post" action="${escapeHtml(opts.action)}" autocomplete="off">
  <label for="username">Username or e-mail</label>
  <input id="username" name="username" required autofocus value="${escapeHtml(opts.login ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}

/** `form` is the provider's own form (code input and CSRF token); the buttons submit it. */
export function userCodePage(form: string, error?: string): string {
  return page(
    'Device sign-in',
    `<h1>Connect a device</h1><p>Enter the code shown on your device.</p>
${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

export function confirmDevicePage(form: string, clientName: string, userCode: string): string {
  return page(
    'Device sign-in',
    `<h1>Connect ${escapeHtml(clientName)}?</h1>
<p>Check that your device shows this code:</p><p><code>${escapeHtml(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm" autofocus>Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort" class="secondary">Cancel</button>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
