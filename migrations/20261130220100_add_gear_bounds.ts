import { type Kysely, sql } from 'kysely'

/**
 * Upper bounds on weight, price and quantity, so that no total can overflow or lose
 * precision (see "Bounds" in the README; src/schemas/common.ts holds the same numbers):
 * 1,000,000 rows at the maxima total 9e15 cents and 1e15 grams, below 2^53.
 * Rows already beyond a bound are never changed here: the migration refuses, naming them.
 */
const MAX_WEIGHT_GRAMS = 1_000_000
const MAX_PRICE_CENTS = 9_000_000
const MAX_QUANTITY = 1_000

const bounds: { table: string; column: string; max: number }[] = [
  { table: 'items', column: 'weight_grams', max: MAX_WEIGHT_GRAMS },
  { table: 'items', column: 'price_cents', max: MAX_PRICE_CENTS },
  { table: 'items', column: 'quantity', max: MAX_QUANTITY },
  { table: 'thread_candidates', column: 'weight_grams', max: MAX_WEIGHT_GRAMS },
  { table: 'thread_candidates', column: 'price_cents', max: MAX_PRICE_CENTS },
]

const constraintName = (b: { table: string; column: string }) => `${b.table}_${b.column}_max_check`

export async function up(db: Kysely<any>): Promise<void> {
  const problems: string[] = []
  for (const b of bounds) {
    const rows = await db.selectFrom(b.table).select('id').where(b.column, '>', b.max).orderBy('id').limit(21).execute()
    if (rows.length === 0) continue
    const ids = rows.slice(0, 20).map((r) => r.id)
    problems.push(`${b.table} ${ids.join(', ')}${rows.length > 20 ? ' and more' : ''} (${b.column} above ${b.max})`)
  }
  if (problems.length > 0) {
    throw new Error(`cannot add the upper bounds: these rows exceed them; correct or delete them, then migrate again: ${problems.join('; ')}`)
  }
  for (const b of bounds) {
    await db.schema
      .alterTable(b.table)
      .addCheckConstraint(constraintName(b), sql`${sql.ref(b.column)} <= ${sql.lit(b.max)}`)
      .execute()
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const b of [...bounds].reverse()) {
    await db.schema.alterTable(b.table).dropConstraint(constraintName(b)).execute()
  }
}
