import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationCodes, REDEEMED_MARKER_AGE_MS, s256, Sealer, type AuthorizationGrant } from '../../src/identity/authorization-codes.ts';
import type { SecretStore } from '../../src/store/roles.ts';

/**
 * The markers of redeemed authorization codes are bounded (docs/operations.md "Limits"): each redemption deletes
 * those older than REDEEMED_MARKER_AGE_MS, and a failure to delete never refuses the sign-in.
 */
class MemorySecrets implements SecretStore {
  readonly secrets = new Map<string, Uint8Array>();
  readonly deletions: { prefix: string; ageMs: number; limit: number }[] = [];
  failDeletes = false;

  async getOrCreateSecret(name: string, candidate: Uint8Array): Promise<Uint8Array> {
    if (!this.secrets.has(name)) this.secrets.set(name, candidate);
    return this.secrets.get(name)!;
  }

  async deleteSecretsOlderThan(prefix: string, ageMs: number, limit: number): Promise<number> {
    this.deletions.push({ prefix, ageMs, limit });
    if (this.failDeletes) throw new Error('database away');
    return 0;
  }
}

const VERIFIER = 'v'.repeat(43);
const grant: AuthorizationGrant = {
  tenantId: 'tenant',
  clientId: 'client',
  redirectUri: 'https://console.example/callback',
  codeChallenge: s256(VERIFIER),
  upn: 'admin@contoso.example',
  roles: [],
  groups: [],
  nonce: undefined,
  scope: 'openid',
};
const redemption = { tenantId: 'tenant', clientId: 'client', redirectUri: grant.redirectUri, codeVerifier: VERIFIER };

describe('authorization codes: redeemed markers are bounded', () => {
  it('a redemption deletes the markers older than REDEEMED_MARKER_AGE_MS, a bounded number at a time', async () => {
    const secrets = new MemorySecrets();
    const codes = new AuthorizationCodes(new Sealer(secrets), secrets, () => Date.now());
    assert.equal((await codes.redeem(await codes.issue(grant), redemption)).kind, 'granted');
    assert.equal(secrets.deletions.length, 1);
    const [deletion] = secrets.deletions;
    assert.equal(deletion!.ageMs, REDEEMED_MARKER_AGE_MS);
    assert.ok(deletion!.limit > 0 && deletion!.limit <= 1024, 'bounded per redemption');
    assert.ok([...secrets.secrets.keys()].some((name) => name.startsWith(deletion!.prefix)), 'under the prefix its markers are stored with');
  });

  it('a failed delete refuses nothing, and a spent code stays spent', async () => {
    const secrets = new MemorySecrets();
    secrets.failDeletes = true;
    const codes = new AuthorizationCodes(new Sealer(secrets), secrets, () => Date.now());
    const code = await codes.issue(grant);
    assert.equal((await codes.redeem(code, redemption)).kind, 'granted');
    assert.equal((await codes.redeem(code, redemption)).kind, 'refused');
  });
});
