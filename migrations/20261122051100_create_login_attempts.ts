import { type Kysely, sql } from 'kysely'

/** Sign-in attempts per username within a window, in the database so every app instance shares them. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_attempts')
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('window_started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('login_attempts_pkey', ['username'])
    .addCheckConstraint('login_attempts_attempts_check', sql`attempts >= 0`)
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_attempts').execute()
}
