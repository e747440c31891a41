import { type Kysely, sql } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('threads')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('resolved_candidate_id', 'integer')
    .addColumn('category_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint('threads_category_id_fkey', ['category_id'], 'categories', ['id'])
    .addCheckConstraint('threads_status_check', sql`status in ('active', 'resolved')`)
    .execute()

  await db.schema
    .createTable('thread_candidates')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('thread_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('weight_grams', 'double precision')
    .addColumn('price_cents', 'integer')
    .addColumn('category_id', 'integer', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('product_url', 'text')
    .addColumn('image_filename', 'text')
    .addColumn('image_source_url', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('researching'))
    .addColumn('pros', 'text')
    .addColumn('cons', 'text')
    .addColumn('sort_order', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint('thread_candidates_thread_id_fkey', ['thread_id'], 'threads', ['id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('thread_candidates_category_id_fkey', ['category_id'], 'categories', ['id'])
    .addCheckConstraint('thread_candidates_status_check', sql`status in ('researching', 'ordered', 'arrived')`)
    .addCheckConstraint('thread_candidates_weight_grams_check', sql`weight_grams >= 0 and weight_grams < 'Infinity'`)
    .addCheckConstraint('thread_candidates_price_cents_check', sql`price_cents >= 0`)
    .addCheckConstraint('thread_candidates_sort_order_check', sql`sort_order > '-Infinity' and sort_order < 'Infinity'`)
    .execute()

  // The two tables point at each other, so this key can only be added once both exist.
  await db.schema
    .alterTable('threads')
    .addForeignKeyConstraint('threads_resolved_candidate_id_fkey', ['resolved_candidate_id'], 'thread_candidates', ['id'], (fk) => fk.onDelete('set null'))
    .execute()

  await db.schema.createIndex('threads_category_id_idx').on('threads').column('category_id').execute()
  await db.schema.createIndex('threads_resolved_candidate_id_idx').on('threads').column('resolved_candidate_id').execute()
  await db.schema.createIndex('threads_status_created_at_idx').on('threads').columns(['status', 'created_at']).execute()
  await db.schema.createIndex('thread_candidates_thread_id_sort_order_idx').on('thread_candidates').columns(['thread_id', 'sort_order']).execute()
  await db.schema.createIndex('thread_candidates_category_id_idx').on('thread_candidates').column('category_id').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('threads').dropConstraint('threads_resolved_candidate_id_fkey').execute()
  await db.schema.dropTable('thread_candidates').execute()
  await db.schema.dropTable('threads').execute()
}
