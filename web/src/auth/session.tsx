import { createContext, useContext, type ReactNode } from 'react';

/**
 * STUB until the sign-in module lands (OIDC authorization code with PKCE; tokens in memory only). The exports are the
 * contract the rest of the console uses.
 */
export interface Session {
  user: { upn: string; name: string };
  roles: string[];
  canWrite: boolean;
  tenantId: string;
  signOut(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function getAccessToken(): string | undefined {
  return undefined;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const session: Session = { user: { upn: 'nobody', name: 'nobody' }, roles: [], canWrite: false, tenantId: '', signOut: () => undefined };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
