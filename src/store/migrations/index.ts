import type { Migration } from 'kysely';
import { initial } from './001_initial.ts';
import { secrets } from './002_secrets.ts';

/** Every migration, by name; Kysely's Migrator applies them in name order. Never rename or edit a shipped one. */
export const migrations: Readonly<Record<string, Migration>> = {
  '001_initial': initial,
  '002_secrets': secrets,
};
