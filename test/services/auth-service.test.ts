import { describe, expect, test } from 'bun:test'
import { ConflictError } from '../../src/errors'
import { AuthService } from '../../src/services/auth-service'
import { onServerDatabase, serverUrl } from '../support/database'
import { rejection, storeWith } from '../support/failures'

// PGlite runs one transaction at a time, so there the second setup would wait without any lock.
describe.if(serverUrl !== undefined)('AuthService.setup on a PostgreSQL server', () => {
  test('of two concurrent setups the second waits for the first and then finds a user', () =>
    onServerDatabase(async (db) => {
      // The first setup stops after it has counted no users, while its transaction is open; it
      // goes on once the second has asked for the lock (and, without one, counted and inserted).
      const firstCounted = Promise.withResolvers<void>()
      const secondLocking = Promise.withResolvers<void>()
      const releaseFirst = Promise.withResolvers<void>()
      let locks = 0
      let counts = 0
      const service = new AuthService(
        storeWith(db, 'users', (trx) => ({
          lockForFirstUser() {
            if (locks++ === 1) secondLocking.resolve()
            return trx.users.lockForFirstUser()
          },
          async count() {
            const n = await trx.users.count()
            if (counts++ === 0) {
              firstCounted.resolve()
              await releaseFirst.promise
            }
            return n
          },
        })),
      )
      const first = service.setup('first', 'password one')
      await firstCounted.promise
      const second = rejection(service.setup('second', 'password two'))
      await secondLocking.promise
      await Bun.sleep(100)
      releaseFirst.resolve()
      expect((await first).username).toBe('first')
      expect(await second).toBeInstanceOf(ConflictError)
      expect(await db.selectFrom('users').select('username').execute()).toEqual([{ username: 'first' }])
    }))
})
