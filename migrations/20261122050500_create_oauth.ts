import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_name', 'text')
    .addColumn('redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('oauth_clients_client_id_key', ['client_id'])
    .addCheckConstraint('oauth_clients_redirect_uris_check', sql`jsonb_typeof(redirect_uris) = 'array'`)
    .execute()

  await db.schema
    .createTable('oauth_codes')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('code_challenge_method', 'text', (c) => c.notNull().defaultTo('S256'))
    .addColumn('scope', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('oauth_codes_code_hash_key', ['code_hash'])
    .addForeignKeyConstraint('oauth_codes_client_id_fkey', ['client_id'], 'oauth_clients', ['client_id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('oauth_codes_user_id_fkey', ['user_id'], 'users', ['id'], (fk) => fk.onDelete('cascade'))
    .addCheckConstraint('oauth_codes_code_challenge_method_check', sql`code_challenge_method in ('S256')`)
    .execute()
  await db.schema.createIndex('oauth_codes_client_id_idx').on('oauth_codes').column('client_id').execute()
  await db.schema.createIndex('oauth_codes_user_id_idx').on('oauth_codes').column('user_id').execute()

  await db.schema
    .createTable('oauth_tokens')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('access_token_hash', 'text', (c) => c.notNull())
    .addColumn('refresh_token_hash', 'text')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('scope', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('refresh_expires_at', 'timestamptz')
    .addColumn('revoked', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('oauth_tokens_access_token_hash_key', ['access_token_hash'])
    .addUniqueConstraint('oauth_tokens_refresh_token_hash_key', ['refresh_token_hash'])
    .addForeignKeyConstraint('oauth_tokens_client_id_fkey', ['client_id'], 'oauth_clients', ['client_id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('oauth_tokens_user_id_fkey', ['user_id'], 'users', ['id'], (fk) => fk.onDelete('cascade'))
    .execute()
  await db.schema.createIndex('oauth_tokens_client_id_idx').on('oauth_tokens').column('client_id').execute()
  await db.schema.createIndex('oauth_tokens_user_id_idx').on('oauth_tokens').column('user_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_tokens').execute()
  await db.schema.dropTable('oauth_codes').execute()
  await db.schema.dropTable('oauth_clients').execute()
}
