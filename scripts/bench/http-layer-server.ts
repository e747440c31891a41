/**
 * For `scripts/bench-api-layers.ts` only, never shipped: `GET /api/items/:id` answered by
 * one Hono route on node:http (MODE=node: src/http-server.ts, as GearBox serves) or on
 * Bun.serve (MODE=bun), or by a bare node:http handler without Hono (MODE=bare, driver only).
 * The answer is either a fixed JSON body (HANDLER=static: the HTTP layer and Hono alone) or
 * the driver's work (HANDLER=driver: the API-key lookup and the item with postgres.js
 * prepared statements, the same SQL as scripts/bench/baseline-server.ts, the row sent as it
 * comes). Env: PORT, MODE, HANDLER, DATABASE_URL for `driver`.
 */
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { Hono } from 'hono'
import postgres from 'postgres'
import { listen } from '../../src/http-server'

const INT8 = 20
const ITEM = 'select item.*, categories.name as category_name from items as item inner join categories on categories.id = item.category_id'
const fixed = { id: 1, name: 'Tent', weightGrams: 1200.5, priceCents: 34900, categoryId: 1, notes: 'x'.repeat(100) }

/** The driver's work: the key's owner, then the item; undefined for an unknown key. */
async function driverAnswer(authorization: string | undefined, id: number): Promise<unknown> {
  const hash = createHash('sha256')
    .update(authorization?.slice('Bearer '.length) ?? '')
    .digest('hex')
  const keys = await sql!.unsafe('select id, user_id, last_used_at from api_keys where key_hash = $1', [hash], { prepare: true })
  if (keys.length !== 1) return undefined
  return (await sql!.unsafe(`${ITEM} where item.id = $1`, [id], { prepare: true }))[0]
}
const sql =
  process.env.HANDLER === 'driver'
    ? postgres(process.env.DATABASE_URL!, { max: 10, types: { int8: { to: INT8, from: [INT8], serialize: String, parse: Number } }, onnotice: () => {} })
    : undefined
const unauthorized = { error: { code: 'unauthorized', message: 'invalid API key' } }

const app = new Hono()
app.get('/api/items/:id', async (c) => {
  if (!sql) return c.json(fixed)
  const answer = await driverAnswer(c.req.header('authorization'), Number(c.req.param('id')))
  return answer ? c.json(answer) : c.json(unauthorized, 401)
})

const port = Number(process.env.PORT)
if (process.env.MODE === 'node') await listen(app.fetch, port)
else if (process.env.MODE === 'bare') {
  createServer(async (req, res) => {
    const answer = await driverAnswer(req.headers.authorization, Number(req.url!.split('/').pop()))
    const body = JSON.stringify(answer ?? unauthorized)
    res.writeHead(answer ? 200 : 401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  }).listen(port)
} else Bun.serve({ port, fetch: app.fetch })
