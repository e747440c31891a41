import { AsyncLocalStorage } from 'node:async_hooks'
import type { Kysely } from 'kysely'
import { isEmbedded } from '../db/database'
import { retryTransaction } from '../db/retry'
import type { DB } from '../db/types'
import { type ApiKeyRepository, KyselyApiKeyRepository } from './api-key-repository'
import { type CategoryRepository, KyselyCategoryRepository } from './category-repository'
import { type HealthRepository, KyselyHealthRepository } from './health-repository'
import { type ItemRepository, KyselyItemRepository } from './item-repository'
import { KyselyLoginAttemptRepository, type LoginAttemptRepository } from './login-attempt-repository'
import { KyselyOAuthRepository, type OAuthRepository } from './oauth-repository'
import { KyselySessionRepository, type SessionRepository } from './session-repository'
import { KyselySettingRepository, type SettingRepository } from './setting-repository'
import { KyselySetupRepository, type SetupRepository } from './setup-repository'
import { KyselyThreadRepository, type ThreadRepository } from './thread-repository'
import { inTransaction } from './transaction'
import { KyselyUserRepository, type UserRepository } from './user-repository'

export interface Repositories {
  categories: CategoryRepository
  items: ItemRepository
  threads: ThreadRepository
  setups: SetupRepository
  settings: SettingRepository
  users: UserRepository
  sessions: SessionRepository
  apiKeys: ApiKeyRepository
  oauth: OAuthRepository
  loginAttempts: LoginAttemptRepository
  health: HealthRepository
}

/** Repositories bound to `db`; pass a Transaction<DB> to bind them all to that transaction. */
export function repositoriesFor(db: Kysely<DB>): Repositories {
  return {
    categories: new KyselyCategoryRepository(db),
    items: new KyselyItemRepository(db),
    threads: new KyselyThreadRepository(db),
    setups: new KyselySetupRepository(db),
    settings: new KyselySettingRepository(db),
    users: new KyselyUserRepository(db),
    sessions: new KyselySessionRepository(db),
    apiKeys: new KyselyApiKeyRepository(db),
    oauth: new KyselyOAuthRepository(db),
    loginAttempts: new KyselyLoginAttemptRepository(db),
    health: new KyselyHealthRepository(db),
  }
}

/**
 * The one way services reach the database. `read` hands out repositories outside any
 * transaction, for queries; `write` hands out repositories bound to one transaction, for
 * anything that changes rows; `autocommit`, for a change that is one statement. None may be
 * called inside `write`: repositories from outside the transaction would run outside it (and
 * on PGlite wait forever for its connection).
 */
export interface Store {
  read<T>(work: (repos: Repositories) => Promise<T>): Promise<T>
  write<T>(work: (repos: Repositories) => Promise<T>): Promise<T>
  /**
   * For a change that is a single statement (a repository method documented as one): runs it
   * outside an explicit transaction, where PostgreSQL commits it on its own (autocommit,
   * https://www.postgresql.org/docs/current/tutorial-transactions.html), as atomic as in
   * `write` but in one round trip (`write` takes two on a server: BEGIN goes out with the
   * statement, COMMIT after it; on PGlite, three queries). A deadlock or
   * serialization failure runs it again, as `write` does. Work of more statements must use
   * `write`: here each would commit alone.
   */
  autocommit<T>(statement: (repos: Repositories) => Promise<T>): Promise<T>
  /**
   * Runs `work` in one REPEATABLE READ READ ONLY transaction: every `read` inside it, however
   * many statements it takes, sees the database as of the same moment, for reads that must
   * agree with each other (the chunks of one whole list). Holds a connection until `work` ends.
   * Not on embedded PGlite (isEmbedded): there every request's statements take turns on one
   * connection, and a transaction over many would stop all others until it ends, so `work`
   * runs outside one and may see what other requests write between its reads.
   */
  snapshot<T>(work: () => Promise<T>): Promise<T>
}

const insideWrite = new AsyncLocalStorage<true>()
// The repositories of the snapshot a `read` runs in, if any.
const insideSnapshot = new AsyncLocalStorage<Repositories>()

function refuseNesting(call: string): void {
  if (insideWrite.getStore()) throw new Error(`Store.${call}() was called inside Store.write(): use the repositories write() handed out`)
}

export function createStore(db: Kysely<DB>): Store {
  const outer = repositoriesFor(db)
  return {
    async read(work) {
      refuseNesting('read')
      return work(insideSnapshot.getStore() ?? outer)
    },
    async write(work) {
      refuseNesting('write')
      return insideWrite.run(true, () => inTransaction(db, (trx) => work(repositoriesFor(trx))))
    },
    async autocommit(statement) {
      refuseNesting('autocommit')
      return retryTransaction(() => statement(outer))
    },
    async snapshot(work) {
      refuseNesting('snapshot')
      if (isEmbedded(db)) return work()
      return inTransaction(db, (trx) => insideSnapshot.run(repositoriesFor(trx), work), { snapshot: true })
    },
  }
}
