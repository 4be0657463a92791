/**
 * Value tokens of app configuration policies (Intune's "Configuration values for using tokens", managed apps):
 * `{{userprincipalname}}`, `{{mail}}`, `{{partialupn}}`, `{{accountid}}`, `{{userid}}`, `{{username}}`,
 * `{{PrimarySMTPAddress}}`, resolved for the user the configuration document is for.
 *
 * Interpretations (Intune documents each token by an example only):
 * - `{{accountid}}` is the account the user belongs to, a GUID: OpenMAM's tenant id.
 * - `{{username}}` is the display name ("John Doe"); `{{partialupn}}` the UPN before its `@` ("John").
 * - `{{PrimarySMTPAddress}}` is the mail address, or the UPN when the user has no mail.
 * - Token names match case-insensitively: Intune's own list mixes cases (`{{PrimarySMTPAddress}}` next to
 *   lower-case names), and `{{` `}}` are reserved for tokens, so no other text can be mistaken for one.
 * - A known token whose value the service does not know (no mail, no display name) becomes the empty string, so a
 *   raw token never reaches the app as if it were a value; an unknown token (e.g. the MDM-only `{{deviceid}}`) stays
 *   as written, so the admin sees it was not resolved.
 * - One pass: values that themselves contain `{{...}}` are not resolved again.
 */

export interface TokenUser {
  /** The tenant id (`{{accountid}}`). */
  tenantId: string;
  /** Entra object id (`{{userid}}`). */
  userId: string;
  upn: string | null;
  mail: string | null;
  /** Display name (`{{username}}`). */
  name: string | null;
}

type TokenValue = (user: TokenUser) => string | null;

/** Keyed by the lower-case token name. */
const TOKENS: ReadonlyMap<string, TokenValue> = new Map<string, TokenValue>([
  ['userprincipalname', (user) => user.upn],
  ['mail', (user) => user.mail],
  ['partialupn', (user) => partialUpn(user.upn)],
  ['accountid', (user) => user.tenantId],
  ['userid', (user) => user.userId],
  ['username', (user) => user.name],
  ['primarysmtpaddress', (user) => user.mail ?? user.upn],
]);

const TOKEN = /\{\{([A-Za-z0-9]+)\}\}/g;

export function resolveValueTokens(value: string, user: TokenUser): string {
  return value.replace(TOKEN, (token, name: string) => {
    const resolve = TOKENS.get(name.toLowerCase());
    return resolve === undefined ? token : (resolve(user) ?? '');
  });
}

/** The UPN before its `@`; a UPN without one is all prefix. */
export function partialUpn(upn: string | null): string | null {
  if (upn === null) return null;
  const at = upn.indexOf('@');
  return at === -1 ? upn : upn.slice(0, at);
}
