import type { Kysely } from 'kysely'
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
 * Runs `work` in one transaction: it commits when `work` resolves and rolls back when it throws.
 * A deadlock or serialization failure runs `work` again in a new transaction (retryTransaction).
 */
export type UnitOfWork = <T>(work: (repos: Repositories) => Promise<T>) => Promise<T>

export function createUnitOfWork(db: Kysely<DB>): UnitOfWork {
  return (work) => retryTransaction(() => db.transaction().execute((trx) => work(repositoriesFor(trx))))
}
