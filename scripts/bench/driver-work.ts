/**
 * For the benchmarks only, never shipped: the work bench-api's peer does for
 * `GET /api/items/:id` with the driver alone (scripts/bench/baseline-server.ts, its SQL):
 * the API key's lookup by SHA-256 hash, then the item with its category name, postgres.js
 * prepared statements, int8 as numbers.
 */
import { createHash } from 'node:crypto'
import postgres from 'postgres'

const INT8 = 20
const ITEM = 'select item.*, categories.name as category_name from items as item inner join categories on categories.id = item.category_id'

/** `answer(authorization, id)`: the item's row, or undefined when the `Bearer <key>` header is unknown; `end()` closes the pool. */
export function driverWork(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 10, types: { int8: { to: INT8, from: [INT8], serialize: String, parse: Number } }, onnotice: () => {} })
  return {
    async answer(authorization: string | undefined, id: number): Promise<unknown> {
      const hash = createHash('sha256')
        .update(authorization?.slice('Bearer '.length) ?? '')
        .digest('hex')
      const keys = await sql.unsafe('select id, user_id, last_used_at from api_keys where key_hash = $1', [hash], { prepare: true })
      if (keys.length !== 1) return undefined
      return (await sql.unsafe(`${ITEM} where item.id = $1`, [id], { prepare: true }))[0]
    },
    end: () => sql.end(),
  }
}
