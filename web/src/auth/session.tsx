import { Body1, Button, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Title1, makeStyles, tokens } from '@fluentui/react-components';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/**
 * The console's sign-in: OpenID Connect authorization code flow with PKCE (RFC 7636, S256) against the tenant's
 * identity provider, as a single-page app does it with Entra ID
 * (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow): the server says which authority, client
 * and scopes (/console/config.json), OIDC discovery of the authority gives the endpoints.
 *
 * Storage: the PKCE verifier, state and nonce live in sessionStorage only for the round trip to the identity
 * provider (the page is unloaded meanwhile) and are removed on return; tokens live in this module's memory only,
 * never in any storage, so a reload signs in again. Roles and the user's name are read from the tokens for display;
 * the server enforces every permission itself.
 */
export interface Session {
  user: { upn: string; name: string };
  roles: string[];
  /** The OpenMAM.Admin app role: writes are shown. Readers (OpenMAM.Reader) see everything read-only. */
  canWrite: boolean;
  tenantId: string;
  signOut(): void;
}

interface ConsoleConfig {
  tenantId: string;
  authority: string;
  clientId: string;
  scopes: string[];
  redirectUri: string;
  builtinIdp: boolean;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

/** What survives the redirect to the identity provider, and nothing more. */
interface RoundTrip {
  verifier: string;
  state: string;
  nonce: string;
  tenant: string | undefined;
  /** Where the user was (path and query) before signing in. */
  returnTo: string;
}

interface Tokens {
  accessToken: string;
  expiresAt: number;
  session: Omit<Session, 'signOut'>;
}

const ROUND_TRIP_KEY = 'openmam.console.sign-in';
const ADMIN_ROLE = 'OpenMAM.Admin';
/** Sign in again a minute before the access token expires, rather than fail a request with 401. */
const EXPIRY_MARGIN_MS = 60_000;

/** The access token lives here, in memory only. */
let current: Tokens | undefined;

/** The bearer token for the admin API, while the session lasts; undefined when signed out or expired. */
export function getAccessToken(): string | undefined {
  return current !== undefined && Date.now() < current.expiresAt ? current.accessToken : undefined;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** BASE64URL(SHA256(verifier)) (RFC 7636 §4.2). */
async function s256(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** A JWT's payload, unverified: for display only (the server verifies every token it is given). */
function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  const text = decodeURIComponent(Array.from(binary, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
  const claims: unknown = JSON.parse(text);
  return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

async function loadConfig(tenant: string | undefined): Promise<{ config: ConsoleConfig; discovery: Discovery }> {
  const config = await getJson<ConsoleConfig>(`/console/config.json${tenant === undefined ? '' : `?tenant=${encodeURIComponent(tenant)}`}`);
  const discovery = await getJson<Discovery>(`${config.authority}/.well-known/openid-configuration`);
  // The endpoints must be the authority's own (OpenID Connect Discovery 1.0 §4.3): never another issuer's.
  if (discovery.issuer !== config.authority) throw new Error(`the identity provider's issuer (${discovery.issuer}) is not the console's authority (${config.authority})`);
  return { config, discovery };
}

function tenantInUrl(): string | undefined {
  return new URLSearchParams(location.search).get('tenant') ?? undefined;
}

async function startSignIn(): Promise<void> {
  const tenant = tenantInUrl();
  const { config, discovery } = await loadConfig(tenant);
  const trip: RoundTrip = { verifier: randomText(48), state: randomText(), nonce: randomText(), tenant, returnTo: `${location.pathname}${location.search}` };
  sessionStorage.setItem(ROUND_TRIP_KEY, JSON.stringify(trip));
  const target = new URL(discovery.authorization_endpoint);
  const parameters = {
    client_id: config.clientId,
    response_type: 'code',
    redirect_uri: config.redirectUri,
    response_mode: 'query',
    scope: config.scopes.join(' '),
    state: trip.state,
    nonce: trip.nonce,
    code_challenge: await s256(trip.verifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  location.assign(target.href);
}

class SignInError extends Error {}

/** Back from the identity provider: the code exchanged for tokens, the round trip forgotten, the URL cleaned. */
async function completeSignIn(): Promise<Tokens | undefined> {
  const query = new URLSearchParams(location.search);
  const stored = sessionStorage.getItem(ROUND_TRIP_KEY);
  sessionStorage.removeItem(ROUND_TRIP_KEY);
  if (!query.has('code') && !query.has('error')) return undefined;
  const trip = stored === null ? undefined : (JSON.parse(stored) as RoundTrip);
  // Whatever happens next, the code and state leave the address bar (and the history entry).
  history.replaceState(null, '', trip?.returnTo ?? location.pathname);
  if (trip === undefined || query.get('state') !== trip.state) throw new SignInError('This sign-in was not started here, or has already been used. Sign in again.');
  const error = query.get('error');
  if (error !== null) throw new SignInError(`${error}: ${query.get('error_description') ?? 'the identity provider refused the sign-in'}`);
  const { config, discovery } = await loadConfig(trip.tenant);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: query.get('code') ?? '',
      redirect_uri: config.redirectUri,
      client_id: config.clientId,
      code_verifier: trip.verifier,
      scope: config.scopes.join(' '),
    }).toString(),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new SignInError(`${text(answer['error']) ?? response.status}: ${text(answer['error_description']) ?? 'the token request was refused'}`);
  const accessToken = text(answer['access_token']);
  if (accessToken === undefined) throw new SignInError('the identity provider answered without an access token');
  const access = claimsOf(accessToken);
  const idToken = text(answer['id_token']);
  const identity = idToken === undefined ? access : claimsOf(idToken);
  if (idToken !== undefined && identity['nonce'] !== trip.nonce) throw new SignInError('the ID token is not the answer to this sign-in (nonce). Sign in again.');
  const roles = Array.isArray(access['roles']) ? access['roles'].filter((r): r is string => typeof r === 'string') : [];
  const upn = text(access['upn']) ?? text(identity['preferred_username']) ?? text(access['preferred_username']) ?? '';
  const expiresIn = typeof answer['expires_in'] === 'number' ? answer['expires_in'] : 3600;
  return {
    accessToken,
    expiresAt: Date.now() + expiresIn * 1000 - EXPIRY_MARGIN_MS,
    session: {
      user: { upn, name: text(identity['name']) ?? text(access['name']) ?? upn },
      roles,
      canWrite: roles.includes(ADMIN_ROLE),
      tenantId: text(access['tid']) ?? config.tenantId,
    },
  };
}

/** React's development mode runs effects twice: both runs share the one completion (the round trip is read once). */
let completion: Promise<Tokens | undefined> | undefined;

/** After signing out: where the identity provider ends its own session (Entra), if it publishes one. */
async function endSessionUrl(tenantId: string): Promise<string | undefined> {
  const { config, discovery } = await loadConfig(tenantId);
  if (config.builtinIdp || discovery.end_session_endpoint === undefined) return undefined;
  const target = new URL(discovery.end_session_endpoint);
  target.searchParams.set('post_logout_redirect_uri', config.redirectUri);
  target.searchParams.set('client_id', config.clientId);
  return target.href;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in session. Only inside SessionProvider, which renders its children only when signed in. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession() is used outside SessionProvider');
  return session;
}

const useStyles = makeStyles({
  screen: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalL, maxWidth: '480px', margin: '15vh auto', padding: tokens.spacingHorizontalXXL },
});

type State = { kind: 'loading' } | { kind: 'signed-out'; error?: string; expired?: boolean } | { kind: 'redirecting' } | { kind: 'signed-in'; tokens: Tokens };

export function SessionProvider({ children }: { children: ReactNode }): ReactNode {
  const styles = useStyles();
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    let active = true;
    completion ??= completeSignIn();
    completion.then(
      (tokens) => {
        if (!active) return;
        current = tokens;
        setState(tokens ? { kind: 'signed-in', tokens } : { kind: 'signed-out' });
      },
      (error: unknown) => {
        if (active) setState({ kind: 'signed-out', error: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      active = false;
    };
  }, []);

  // The access token is not renewed silently: when it expires the console asks to sign in again.
  useEffect(() => {
    if (state.kind !== 'signed-in') return undefined;
    const timer = setTimeout(() => {
      current = undefined;
      setState({ kind: 'signed-out', expired: true });
    }, Math.max(0, state.tokens.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [state]);

  const signIn = useCallback(() => {
    setState({ kind: 'redirecting' });
    startSignIn().catch((error: unknown) => setState({ kind: 'signed-out', error: error instanceof Error ? error.message : String(error) }));
  }, []);

  const session = useMemo<Session | undefined>(() => {
    if (state.kind !== 'signed-in') return undefined;
    const { tenantId } = state.tokens.session;
    return {
      ...state.tokens.session,
      signOut: () => {
        current = undefined;
        completion = Promise.resolve(undefined);
        setState({ kind: 'signed-out' });
        endSessionUrl(tenantId).then(
          (url) => {
            if (url !== undefined) location.assign(url);
          },
          () => undefined,
        );
      },
    };
  }, [state]);

  if (session !== undefined) return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
  if (state.kind !== 'signed-out') {
    return (
      <main className={styles.screen}>
        <Spinner label={state.kind === 'redirecting' ? 'Going to the sign-in page…' : 'Signing in…'} />
      </main>
    );
  }
  return (
    <main className={styles.screen} aria-labelledby="sign-in-title">
      <Title1 as="h1" id="sign-in-title">
        OpenMAM
      </Title1>
      <Body1>{state.expired ? 'Your session has expired. Sign in again to continue.' : 'Sign in with your work account to manage this tenant.'}</Body1>
      {state.error !== undefined && (
        <MessageBar intent="error" role="alert">
          <MessageBarBody>
            <MessageBarTitle>Sign-in failed</MessageBarTitle>
            {state.error}
          </MessageBarBody>
        </MessageBar>
      )}
      <Button appearance="primary" size="large" onClick={signIn}>
        Sign in
      </Button>
    </main>
  );
}
