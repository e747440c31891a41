/**
 * For `scripts/bench-api-layers.ts` only, never shipped: one Hono route, `GET /api/items/:id`,
 * served by node:http (src/http-server.ts, as GearBox serves) or by Bun.serve, answering
 * either a fixed JSON body (HANDLER=static: the HTTP layer and Hono alone) or what the bare
 * peer answers (HANDLER=driver: the API-key lookup and the item, postgres.js prepared
 * statements, as scripts/bench/baseline-server.ts does). Env: PORT, MODE (node | bun),
 * HANDLER (static | driver), DATABASE_URL for `driver`.
 */
import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import postgres from 'postgres'
import { listen } from '../../src/http-server'

const INT8 = 20
const ITEM = 'select item.*, categories.name as category_name from items as item inner join categories on categories.id = item.category_id'
const fixed = { id: 1, name: 'Tent', weightGrams: 1200.5, priceCents: 34900, categoryId: 1, notes: 'x'.repeat(100) }

const app = new Hono()
if (process.env.HANDLER === 'driver') {
  const sql = postgres(process.env.DATABASE_URL!, {
    max: 10,
    types: { int8: { to: INT8, from: [INT8], serialize: String, parse: Number } },
    onnotice: () => {},
  })
  app.get('/api/items/:id', async (c) => {
    const hash = createHash('sha256')
      .update(c.req.header('authorization')?.slice('Bearer '.length) ?? '')
      .digest('hex')
    const keys = await sql.unsafe('select id, user_id, last_used_at from api_keys where key_hash = $1', [hash], { prepare: true })
    if (keys.length !== 1) return c.json({ error: { code: 'unauthorized', message: 'invalid API key' } }, 401)
    const [row] = await sql.unsafe(`${ITEM} where item.id = $1`, [Number(c.req.param('id'))], { prepare: true })
    return c.json(row)
  })
} else app.get('/api/items/:id', (c) => c.json(fixed))

const port = Number(process.env.PORT)
if (process.env.MODE === 'node') await listen(app.fetch, port)
else Bun.serve({ port, fetch: app.fetch })
