import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('categories')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('icon', 'text', (c) => c.notNull().defaultTo('package'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('categories_name_key', ['name'])
    .execute()

  // Category 1 is the fallback that deleted categories hand their items to.
  await db.insertInto('categories').values({ id: 1, name: 'Uncategorized', icon: 'package' }).execute()
  await sql`select setval(pg_get_serial_sequence('categories', 'id'), 1)`.execute(db)

  await db.schema
    .createTable('items')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('weight_grams', 'double precision')
    .addColumn('price_cents', 'integer')
    .addColumn('category_id', 'integer', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('product_url', 'text')
    .addColumn('image_filename', 'text')
    .addColumn('image_source_url', 'text')
    .addColumn('quantity', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint('items_category_id_fkey', ['category_id'], 'categories', ['id'])
    // NaN compares greater than every number in PostgreSQL, so "< Infinity" also rules it out.
    .addCheckConstraint('items_weight_grams_check', sql`weight_grams >= 0 and weight_grams < 'Infinity'`)
    .addCheckConstraint('items_price_cents_check', sql`price_cents >= 0`)
    .addCheckConstraint('items_quantity_check', sql`quantity >= 1`)
    .execute()
  await db.schema.createIndex('items_category_id_idx').on('items').column('category_id').execute()
  await db.schema.createIndex('items_name_idx').on('items').column('name').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('items').execute()
  await db.schema.dropTable('categories').execute()
}
