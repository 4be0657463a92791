import { randomUUID } from 'node:crypto';
import type { TestServer } from './server.ts';

/** Tokens of the admin API's callers a test needs: an Admin and a Reader of the server's tenant, an Admin of another. */
export interface AdminTokens {
  admin: string;
  reader: string;
  /** An Admin of a second tenant (Fabrikam), onboarded here: whatever it asks of the first tenant is not found. */
  intruder: string;
  otherTenantId: string;
}

export async function adminTokens(server: TestServer): Promise<AdminTokens> {
  const admin = await server.mint({ upn: 'admin@contoso.example', roles: ['OpenMAM.Admin'] });
  const reader = await server.mint({ upn: 'reader@contoso.example', roles: ['OpenMAM.Reader'] });
  const otherTenant = randomUUID();
  await server.runtime.app.tenants.onboard({ id: otherTenant, name: 'Fabrikam', identityProvider: 'builtin' });
  const intruder = await server.mint({ upn: 'admin@fabrikam.example', tenantId: otherTenant, roles: ['OpenMAM.Admin'] });
  return { admin, reader, intruder, otherTenantId: otherTenant };
}
