import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { repositoriesFor } from '../../src/repositories'
import { createServices, type Services } from '../../src/services'
import { sha256Hex } from '../../src/services/auth-service'
import { openTestDatabase, recordingStatements, type TestDatabase } from '../support/database'

// issue 13: a change that is one statement goes to the database alone, committed by PostgreSQL
// on its own, rather than between BEGIN and COMMIT (two round trips more on a server).
describe('the statements a change sends', () => {
  let testDb: TestDatabase
  let recording: ReturnType<typeof recordingStatements>
  let services: Services
  beforeAll(async () => {
    testDb = await openTestDatabase()
    recording = recordingStatements(testDb.engine)
    services = createServices(recording.db, { uploadDir: '/nonexistent' })
  }, 60_000)
  beforeEach(() => testDb.reset())
  afterAll(async () => {
    await recording?.close()
    await testDb?.close()
  }, 60_000)

  /** What `change` sent: 'begin', 'commit' and 'rollback' for a transaction's, else the first word of each statement's SQL. */
  async function sentBy(change: () => Promise<unknown>): Promise<string[]> {
    recording.statements.length = 0
    await change()
    return recording.statements.map((statement) => statement.trim().split(/\s+/)[0]!.toLowerCase())
  }

  test('each single-statement change is one statement, without BEGIN and COMMIT', async () => {
    const repos = repositoriesFor(testDb.db)
    const user = await repos.users.create({ username: 'owner', passwordHash: 'not used' })
    const category = await services.categories.create({ name: 'Shelter' })
    const item = await services.items.create({ name: 'Tent', categoryId: category.id })
    const thread = await services.threads.create({ name: 'Stove', categoryId: category.id })
    const candidate = await services.threads.addCandidate(thread.id, { name: 'Pocket Rocket' })
    const setup = await services.setups.create({ name: 'Trip' })
    const { id: keyId, key } = await services.auth.createApiKey(user.id, 'k')
    const expiredToken = 'an expired session token'
    await repos.sessions.create({ id: sha256Hex(expiredToken), userId: user.id, expiresAt: new Date(Date.now() - 1000) })

    const changes: Record<string, () => Promise<unknown>> = {
      'create an item': () => services.items.create({ name: 'Quilt', categoryId: category.id }),
      'update an item': () => services.items.update(item.id, { name: 'Tent 2' }),
      'create a category': () => services.categories.create({ name: 'Sleep' }),
      'update a category': () => services.categories.update(category.id, { name: 'Shelters' }),
      'create a thread': () => services.threads.create({ name: 'Pad', categoryId: category.id }),
      'update a candidate': () => services.threads.updateCandidate(thread.id, candidate.id, { name: 'MSR' }),
      'delete a thread': () => services.threads.delete(thread.id),
      'set a setting': () => services.settings.set('units', 'metric'),
      'delete a setup': () => services.setups.delete(setup.id),
      'create an API key': () => services.auth.createApiKey(user.id, 'another'),
      'record an API key use': async () => {
        await testDb.db.updateTable('api_keys').set({ last_used_at: null }).where('id', '=', keyId).execute()
        recording.statements.length = 0
        await services.auth.authenticateApiKey(key)
      },
      'delete an API key': () => services.auth.deleteApiKey(user.id, keyId),
      'delete an expired session': () => services.auth.authenticateSession(expiredToken),
    }
    const sent: Record<string, string[]> = {}
    for (const [name, change] of Object.entries(changes)) sent[name] = await sentBy(change)
    // Recording an API key's use follows the key's lookup; an expired session's deletion follows its own.
    expect(sent).toEqual({
      'create an item': ['with'],
      'update an item': ['with'],
      'create a category': ['insert'],
      'update a category': ['with'],
      'create a thread': ['insert'],
      'update a candidate': ['update'],
      'delete a thread': ['delete'],
      'set a setting': ['insert'],
      'delete a setup': ['delete'],
      'create an API key': ['insert'],
      'record an API key use': ['select', 'update'],
      'delete an API key': ['delete'],
      'delete an expired session': ['select', 'delete'],
    })
  })

  test('a change of several statements still runs in one transaction', async () => {
    const item = await services.items.create({ name: 'Tent', categoryId: 1 })
    // Deleting an item moves the updatedAt of the setups holding it (a WITH that locks them in id order, then updates them),
    // locks it, moves those of any setup that took it in meanwhile.
    expect(await sentBy(() => services.items.delete(item.id))).toEqual(['begin', 'with', 'select', 'with', 'delete', 'commit'])
    // Deleting a candidate locks its thread, to see whether the thread was resolved with it.
    const thread = await services.threads.create({ name: 'Stove', categoryId: 1 })
    const candidate = await services.threads.addCandidate(thread.id, { name: 'Pocket Rocket' })
    expect(await sentBy(() => services.threads.deleteCandidate(thread.id, candidate.id))).toEqual(['begin', 'select', 'delete', 'commit'])
  })
})
