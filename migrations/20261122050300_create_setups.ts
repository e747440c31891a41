import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('setups')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('setups_name_idx').on('setups').column('name').execute()

  await db.schema
    .createTable('setup_items')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('setup_id', 'integer', (c) => c.notNull())
    .addColumn('item_id', 'integer', (c) => c.notNull())
    .addColumn('classification', 'text', (c) => c.notNull().defaultTo('base'))
    .addForeignKeyConstraint('setup_items_setup_id_fkey', ['setup_id'], 'setups', ['id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('setup_items_item_id_fkey', ['item_id'], 'items', ['id'], (fk) => fk.onDelete('cascade'))
    .addCheckConstraint('setup_items_classification_check', sql`classification in ('base', 'worn', 'consumable')`)
    // An item is in a setup once; the API addresses it as /setups/:id/items/:itemId.
    .addUniqueConstraint('setup_items_setup_id_item_id_key', ['setup_id', 'item_id'])
    .execute()
  await db.schema.createIndex('setup_items_item_id_idx').on('setup_items').column('item_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('setup_items').execute()
  await db.schema.dropTable('setups').execute()
}
