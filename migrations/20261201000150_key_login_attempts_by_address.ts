import { type Kysely, sql } from 'kysely'

/**
 * Failed sign-ins are counted per username AND client address, so failures from one address
 * never lock the owner out from another. The counts are short-lived: rows from before this
 * migration are kept under the address '' (unknown), as they were counted without one.
 * The index on window_started_at serves the purge of ended windows on every attempt.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('login_attempts')
    .addColumn('client_address', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema
    .alterTable('login_attempts')
    .alterColumn('client_address', (c) => c.dropDefault())
    .execute()
  await db.schema.alterTable('login_attempts').dropConstraint('login_attempts_pkey').execute()
  await db.schema.alterTable('login_attempts').addPrimaryKeyConstraint('login_attempts_pkey', ['username', 'client_address']).execute()
  await db.schema.alterTable('login_attempts').addCheckConstraint('login_attempts_client_address_check', sql`length(client_address) <= 100`).execute()
  await db.schema.createIndex('login_attempts_window_started_at_idx').on('login_attempts').column('window_started_at').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('login_attempts_window_started_at_idx').execute()
  // One row per username again: keep each username's highest count.
  await sql`delete from login_attempts a using login_attempts b
    where a.username = b.username and (a.attempts, a.client_address) < (b.attempts, b.client_address)`.execute(db)
  await db.schema.alterTable('login_attempts').dropConstraint('login_attempts_pkey').execute()
  await db.schema.alterTable('login_attempts').dropConstraint('login_attempts_client_address_check').execute()
  await db.schema.alterTable('login_attempts').dropColumn('client_address').execute()
  await db.schema.alterTable('login_attempts').addPrimaryKeyConstraint('login_attempts_pkey', ['username']).execute()
}
