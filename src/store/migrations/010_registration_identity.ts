import type { Kysely, Migration } from 'kysely';

/**
 * What a registration's identity rests on (issue 12, "the app is who the token says"): the Entra client id of the
 * token that made it (a registration answers only to that client's tokens) and whether its Entra device id came from
 * the token's `deviceid` claim (verified) or only from the app's body (a hint). Existing registrations have no client
 * id: the first check-in by a client the catalogue maps to the registration's app binds it (core/app-protection/
 * managed-apps.ts); their device ids count as unverified.
 */
export const registrationIdentity: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('app_registrations').addColumn('client_id', 'text').execute();
    await db.schema.alterTable('app_registrations').addColumn('azure_ad_device_id_verified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('app_registrations').dropColumn('azure_ad_device_id_verified').execute();
    await db.schema.alterTable('app_registrations').dropColumn('client_id').execute();
  },
};
