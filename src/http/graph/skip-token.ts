import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { OpenMamError } from '../../errors.ts';
import type { FieldValue } from '../../store/collection-query.ts';
import type { SecretStore } from '../../store/roles.ts';

/**
 * Graph's opaque `$skiptoken` (learn.microsoft.com/graph/paging): the keyset position after a page's last row,
 * MAC'd with a key every node shares (kept in the store) and bound to the tenant, the collection and the query it was
 * issued for. A forged token, or one replayed against another tenant, collection, filter or order, is a 400, never a
 * page of something else. Tokens carry no expiry: a position stays meaningful, and paging is stable under inserts.
 */
const SECRET_NAME = 'graph-skiptoken-key';
const MAC_BYTES = 16;
/** Sort values are short (ids, names, times); a longer token is not one of ours. */
const MAX_TOKEN_LENGTH = 2048;

export class SkipTokens {
  #key: Promise<Uint8Array> | undefined;

  constructor(private readonly secrets: SecretStore) {}

  async issue(binding: string, position: readonly FieldValue[]): Promise<string> {
    const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
    return `${payload}.${await this.#mac(binding, payload)}`;
  }

  /** The position a token names, if this node's installation issued it for `binding`; otherwise a 400. */
  async read(binding: string, token: string): Promise<FieldValue[]> {
    const [payload, mac, extra] = token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
    if (payload !== undefined && mac !== undefined && extra === undefined) {
      const expected = Buffer.from(await this.#mac(binding, payload), 'base64url');
      const given = Buffer.from(mac, 'base64url');
      if (given.length === expected.length && timingSafeEqual(given, expected)) {
        const position: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        if (Array.isArray(position)) return position as FieldValue[];
      }
    }
    throw new OpenMamError('malformed_request', '$skiptoken: not a token issued for this query; follow @odata.nextLink as given');
  }

  async #mac(binding: string, payload: string): Promise<string> {
    this.#key ??= this.secrets.getOrCreateSecret(SECRET_NAME, randomBytes(32)).catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return createHmac('sha256', await this.#key).update(binding).update('\n').update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}
