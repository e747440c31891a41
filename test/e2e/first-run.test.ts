// What a new user does after following the README: start the server with `npm start` on
// the embedded database, create the owner, sign in, add an item and see it in a setup.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { bodyOf } from '../support/app'
import { HOOK_TIMEOUT_MS } from '../support/database'
import { freePort } from '../support/ports'
import { waitForLine } from '../support/process'
import { useTempDir } from '../support/temp-dir'

const port = freePort()
const base = `http://127.0.0.1:${port}`
let server: ReturnType<typeof Bun.spawn>
let output = ''

beforeAll(async () => {
  server = Bun.spawn(['npm', 'start', '--silent'], {
    cwd: path.join(import.meta.dir, '../..'),
    env: { ...process.env, GEARBOX_DATA_DIR: dataDir(), PORT: String(port), DATABASE_URL: '' },
    stdout: 'pipe',
    stderr: 'inherit',
    // Its own process group, so the server npm starts is stopped with it.
    detached: true,
  })
  output = await waitForLine(server.stdout as ReadableStream<Uint8Array>, /listening/)
}, HOOK_TIMEOUT_MS)

afterAll(async () => {
  process.kill(-server.pid, 'SIGTERM')
  await server.exited
})
// Declared after the afterAll above, so it is removed once the server has stopped.
const dataDir = useTempDir('first-run')

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

describe('first run from the README', () => {
  test('start, create the owner, sign in, add an item and see it in a setup', async () => {
    expect(output).toContain(`GearBox listening on http://localhost:${port} (database: embedded PGlite in `)
    expect((await fetch(`${base}/health/ready`)).status).toBe(200)

    const owner = { username: 'me', password: 'a long passphrase' }
    expect((await fetch(`${base}/api/auth/setup`, { method: 'POST', ...json(owner) })).status).toBe(201)
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', ...json(owner) })
    expect(login.status).toBe(200)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    expect(cookie).toStartWith('gearbox_session=')

    const created = await fetch(`${base}/api/api-keys`, { method: 'POST', ...json({ name: 'cli' }, { cookie }) })
    expect(created.status).toBe(201)
    const { key } = await bodyOf(created)
    const bearer = { authorization: `Bearer ${key}` }

    const item = await fetch(`${base}/api/items`, {
      method: 'POST',
      ...json({ name: 'Tent', weightGrams: 1200, priceCents: 35000, categoryId: 1, quantity: 2 }, bearer),
    })
    expect(item.status).toBe(201)
    const { id: itemId } = await bodyOf(item)
    const setup = await fetch(`${base}/api/setups`, { method: 'POST', ...json({ name: 'Weekend' }, bearer) })
    expect(setup.status).toBe(201)
    const { id: setupId } = await bodyOf(setup)
    const put = await fetch(`${base}/api/setups/${setupId}/items`, {
      method: 'PUT',
      ...json({ items: [{ itemId, classification: 'base' }] }, bearer),
    })
    expect(put.status).toBe(200)

    const detail = await bodyOf(await fetch(`${base}/api/setups/${setupId}`, { headers: bearer }))
    expect(detail.items.map((i: { name: string }) => i.name)).toEqual(['Tent'])
    expect(detail.totals).toEqual({
      baseWeightGrams: 2400,
      wornWeightGrams: 0,
      consumableWeightGrams: 0,
      totalWeightGrams: 2400,
      totalPriceCents: 70000,
    })
  })
})
