import type { Kysely, Migration } from 'kysely';

/**
 * A group's `mailNickname`: Graph requires it when a group is created (learn.microsoft.com/graph/api/group-post-groups),
 * so scripts send it; OpenMAM keeps and shows it rather than taking it and dropping it.
 */
export const groupMailNickname: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('groups').addColumn('mail_nickname', 'text').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('groups').dropColumn('mail_nickname').execute();
  },
};
