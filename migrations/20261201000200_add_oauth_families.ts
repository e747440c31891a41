import { type Kysely, sql } from 'kysely'

/**
 * OAuth grants as families: a code and every token issued from it (through refresh rotation)
 * share `family_id`, so a reused code or a replayed refresh token revokes the whole chain
 * (OAuth 2.1 section 4.3.1, RFC 6749 section 4.1.2). Codes also keep the RFC 8707 `resource`
 * they were issued for, and both tables get an index for the expiry clean-up.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('oauth_codes')
    .addColumn('family_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('resource', 'text')
    .execute()
  await db.schema
    .alterTable('oauth_tokens')
    .addColumn('family_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .execute()
  await db.schema.createIndex('oauth_codes_family_id_idx').on('oauth_codes').column('family_id').execute()
  await db.schema.createIndex('oauth_codes_expires_at_idx').on('oauth_codes').column('expires_at').execute()
  await db.schema.createIndex('oauth_tokens_family_id_idx').on('oauth_tokens').column('family_id').execute()
  // A token is dead once its refresh token (or, without one, the access token) has expired.
  await db.schema.createIndex('oauth_tokens_expiry_idx').on('oauth_tokens').expression(sql`coalesce(refresh_expires_at, expires_at)`).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_tokens_expiry_idx').execute()
  await db.schema.dropIndex('oauth_tokens_family_id_idx').execute()
  await db.schema.dropIndex('oauth_codes_expires_at_idx').execute()
  await db.schema.dropIndex('oauth_codes_family_id_idx').execute()
  await db.schema.alterTable('oauth_tokens').dropColumn('family_id').execute()
  await db.schema.alterTable('oauth_codes').dropColumn('resource').dropColumn('family_id').execute()
}
