/**
 * For `scripts/bench-api-layers.ts` only, never shipped: `GET /api/items/:id` answered by
 * one Hono route on node:http (MODE=node: src/http-server.ts, as GearBox serves) or on
 * Bun.serve (MODE=bun), or by a bare node:http handler without Hono (MODE=bare, driver only).
 * The answer is either a fixed JSON body (HANDLER=static: the HTTP layer and Hono alone) or
 * the driver's work (HANDLER=driver: scripts/bench/driver-work.ts, the API-key lookup and the
 * item with postgres.js prepared statements, the row sent as it comes). Env: PORT, MODE,
 * HANDLER, DATABASE_URL for `driver`.
 */
import { createServer } from 'node:http'
import { Hono } from 'hono'
import { listen } from '../../src/http-server'
import { driverWork } from './driver-work'

const fixed = { id: 1, name: 'Tent', weightGrams: 1200.5, priceCents: 34900, categoryId: 1, notes: 'x'.repeat(100) }
const driver = process.env.HANDLER === 'driver' ? driverWork(process.env.DATABASE_URL!) : undefined
const unauthorized = { error: { code: 'unauthorized', message: 'invalid API key' } }

const app = new Hono()
app.get('/api/items/:id', async (c) => {
  if (!driver) return c.json(fixed)
  const answer = await driver.answer(c.req.header('authorization'), Number(c.req.param('id')))
  return answer ? c.json(answer) : c.json(unauthorized, 401)
})

const port = Number(process.env.PORT)
if (process.env.MODE === 'node') await listen(app.fetch, port)
else if (process.env.MODE === 'bare') {
  createServer(async (req, res) => {
    const answer = await driver!.answer(req.headers.authorization, Number(req.url!.split('/').pop()))
    const body = JSON.stringify(answer ?? unauthorized)
    res.writeHead(answer ? 200 : 401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  }).listen(port)
} else Bun.serve({ port, fetch: app.fetch })
