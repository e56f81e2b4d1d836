/** HTML pages rendered by the embedded test IdP. No external resources. */

export function escapeHtml(input: unknown): string {
  return String(input ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  *{box-sizing:border-box}
  body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;margin:0;padding:48px 16px}
  main{max-width:380px;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:28px 32px}
  h1{font-size:1.35rem;margin:0 0 .5rem}
  p{margin:.5rem 0;line-height:1.4}
  .hint{color:#4b5563;font-size:.9rem}
  .error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:6px;padding:8px 10px}
  label{display:block;margin:14px 0 4px;font-weight:600;font-size:.9rem}
  input[type=text],input[type=password]{width:100%;padding:9px 10px;border:1px solid #d1d5db;border-radius:6px;font-size:1rem}
  button{margin-top:18px;width:100%;padding:10px;border:0;border-radius:6px;background:#2563eb;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}
  button.secondary{background:#e5e7eb;color:#111827}
  pre{white-space:pre-wrap;word-break:break-word}
`;

export function page(title: string, body: string, id: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main id="${escapeHtml(id)}">
${body}
</main>
</body>
</html>`;
}

export interface LoginPageInput {
  title: string;
  action: string;
  usersHint: string;
  clientName?: string | undefined;
  username?: string | undefined;
  error?: string | undefined;
}

export function loginPage(input: LoginPageInput): string {
  const body = `<h1>${escapeHtml(input.title)}</h1>
${input.clientName ? `<p class="hint">Sign in to continue to <strong>${escapeHtml(input.clientName)}</strong>.</p>` : ''}
<p class="hint" id="demo-users">Demo users: ${escapeHtml(input.usersHint)}</p>
${input.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(input.error)}</p>` : ''}
<form id="testidp-login" method="post" action="${escapeHtml(input.action)}" autocomplete="off">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${escapeHtml(input.username ?? '')}" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" required>
<button type="submit">Sign in</button>
</form>`;
  return page(input.title, body, 'testidp-login-page');
}

export interface ConsentPageInput {
  title: string;
  action: string;
  abortAction: string;
  clientName: string;
  scopes: string[];
}

export function consentPage(input: ConsentPageInput): string {
  const list = input.scopes.length
    ? `<ul>${input.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`
    : '';
  const body = `<h1>${escapeHtml(input.title)}</h1>
<p><strong>${escapeHtml(input.clientName)}</strong> is requesting access to:</p>
${list}
<form id="testidp-consent" method="post" action="${escapeHtml(input.action)}">
<button type="submit">Allow</button>
</form>
<form id="testidp-abort" method="post" action="${escapeHtml(input.abortAction)}">
<button type="submit" class="secondary">Deny</button>
</form>`;
  return page(input.title, body, 'testidp-consent-page');
}

export function logoutPage(title: string, host: string, form: string): string {
  const body = `<h1>Sign out</h1>
<p>Do you want to sign out from ${escapeHtml(title)} (${escapeHtml(host)})?</p>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`;
  return page('Sign out', body, 'testidp-logout-page');
}

export function loggedOutPage(title: string, clientName?: string): string {
  const body = `<h1>Signed out</h1>
<p>You have been signed out${clientName ? ` of ${escapeHtml(clientName)}` : ''} at ${escapeHtml(title)}.</p>`;
  return page('Signed out', body, 'testidp-logged-out-page');
}

export function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</pre>`)
    .join('\n');
  return page('Error', `<h1>Something went wrong</h1>\n${rows}`, 'testidp-error-page');
}
