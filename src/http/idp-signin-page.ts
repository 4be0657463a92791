import { createHash } from 'node:crypto';
import { xmlAttr, xmlText } from '../protocol/xml/writer.ts';

/**
 * The built-in identity provider's development sign-in page: plain server-rendered HTML, every value escaped, every
 * control labelled, no script at all; its one style element is allowed by hash in the page's Content-Security-Policy.
 */
const STYLE =
  'body{font:15px "Segoe UI",system-ui,sans-serif;color:#1b1b1b;background:#fff;margin:0}' +
  'main{max-width:560px;margin:32px auto;padding:0 16px}' +
  '.banner{background:#fde7e9;border:1px solid #a4262c;color:#a4262c;padding:8px 12px;font-weight:600}' +
  'label,legend{display:block;font-weight:600;margin:16px 0 4px}' +
  'input[type=text],textarea{width:100%;box-sizing:border-box;padding:6px;font:inherit;border:1px solid #8a8886}' +
  'fieldset{border:0;padding:0;margin:0}fieldset label{font-weight:400;margin:4px 0}' +
  '.error{color:#a4262c}.hint{color:#605e5c;margin:4px 0}' +
  'nav{margin-top:24px;display:flex;gap:12px}button{font:inherit;padding:6px 20px;border:1px solid #8a8886;background:#fff}' +
  'button.primary{background:#0f6cbd;border-color:#0f6cbd;color:#fff}' +
  ':focus-visible{outline:2px solid #000;outline-offset:2px}' +
  '@media (prefers-color-scheme:dark){body{background:#1f1f1f;color:#fff}button{background:#292929;color:#fff}.banner{background:#442726;color:#fff}.hint{color:#d6d6d6}.error{color:#f1707b}:focus-visible{outline-color:#fff}input[type=text],textarea{background:#292929;color:#fff}}';

const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}`;

export const BANNER = 'Development sign-in — the built-in identity provider is not for production';

/** The page's policy: nothing loads, the style by its hash, the form posts to this server or to the client's origin. */
export function signInPageSecurityPolicy(formTargets: readonly string[]): string {
  return [
    "default-src 'none'",
    `style-src '${STYLE_HASH}'`,
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export interface SignInForm {
  action: string;
  tenantName: string;
  /** The sealed authorization request (and CSRF binding), posted back as is. */
  request: string;
  /** UPNs the tenant has seen, offered as suggestions. */
  knownUsers: readonly string[];
  roles: readonly string[];
  values: { upn: string; roles: readonly string[]; groups: string };
  errors: { upn?: string; roles?: string; groups?: string };
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${xmlText(title)}</title><style>${STYLE}</style></head><body><main>` +
    `<p class="banner" role="note">${xmlText(BANNER)}</p>${body}</main></body></html>`
  );
}

function described(id: string, error: string | undefined): string {
  return error === undefined ? '' : ` aria-invalid="true" aria-describedby="${id}"`;
}

function errorText(id: string, error: string | undefined): string {
  return error === undefined ? '' : `<p class="error" id="${id}">${xmlText(error)}</p>`;
}

export function renderSignInPage(form: SignInForm): string {
  const users = form.knownUsers.map((u) => `<option value="${xmlAttr(u)}"></option>`).join('');
  const roles = form.roles
    .map((role, i) => {
      const checked = form.values.roles.includes(role) ? ' checked' : '';
      return `<label><input type="checkbox" name="role" id="role-${i}" value="${xmlAttr(role)}"${checked}> ${xmlText(role)}</label>`;
    })
    .join('');
  const body =
    `<h1>Sign in to OpenMAM</h1><p>Tenant: ${xmlText(form.tenantName)}</p>` +
    `<form method="post" action="${xmlAttr(form.action)}">` +
    `<input type="hidden" name="request" value="${xmlAttr(form.request)}">` +
    `<label for="upn">User principal name</label>` +
    `<input type="text" id="upn" name="upn" required autocomplete="username" spellcheck="false" list="known-users" value="${xmlAttr(form.values.upn)}"${described('upn-error', form.errors.upn)}>` +
    `<datalist id="known-users">${users}</datalist>${errorText('upn-error', form.errors.upn)}` +
    // aria-invalid is not an attribute of a group (WAI-ARIA 1.2): the fieldset only points at its message.
    `<fieldset${form.errors.roles === undefined ? '' : ' aria-describedby="roles-error"'}><legend>App roles</legend>${roles}</fieldset>${errorText('roles-error', form.errors.roles)}` +
    `<label for="groups">Group object ids (optional)</label>` +
    `<p class="hint" id="groups-hint">GUIDs separated by spaces, commas or new lines: the token's groups claim.</p>` +
    `<textarea id="groups" name="groups" rows="3" aria-describedby="groups-hint${form.errors.groups === undefined ? '' : ' groups-error'}"${form.errors.groups === undefined ? '' : ' aria-invalid="true"'}>${xmlText(form.values.groups)}</textarea>` +
    `${errorText('groups-error', form.errors.groups)}` +
    `<nav><button class="primary" type="submit" name="action" value="sign-in">Sign in</button>` +
    `<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></nav></form>`;
  return page('Sign in - OpenMAM (development)', body);
}

export function renderSignInError(title: string, message: string): string {
  return page(`${title} - OpenMAM`, `<h1>${xmlText(title)}</h1><p>${xmlText(message)}</p>`);
}
