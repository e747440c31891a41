import { type Kysely, type Selectable, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import type { DB, Users } from '../db/types'
import { toTimestamp } from '../domain/timestamp'
import type { User, UserCredentials } from '../domain/user'
import { ConflictError } from '../errors'
import { assertTransaction } from './transaction'

export interface UserRepository {
  /** Throws ConflictError('username is taken', 'users_username_key') when the name exists. */
  create(input: { username: string; passwordHash: string }): Promise<User>
  findById(id: number): Promise<User | undefined>
  findCredentials(username: string): Promise<UserCredentials | undefined>
  count(): Promise<number>
  /**
   * Blocks other inserts into users (and other callers of this method) until the current
   * transaction ends, so "create only if none exists" is race-free. Throws TransactionRequiredError outside a transaction.
   */
  lockForFirstUser(): Promise<void>
}

const toUser = (row: Pick<Selectable<Users>, 'id' | 'username' | 'created_at'>): User => ({
  id: row.id,
  username: row.username,
  createdAt: toTimestamp(row.created_at),
})

export class KyselyUserRepository implements UserRepository {
  constructor(readonly db: Kysely<DB>) {}

  async create(input: { username: string; passwordHash: string }): Promise<User> {
    const row = await this.db
      .insertInto('users')
      .values({ username: input.username, password_hash: input.passwordHash })
      .returning(['id', 'username', 'created_at'])
      .executeTakeFirstOrThrow()
      .catch(onConstraint({ users_username_key: () => new ConflictError('username is taken', 'users_username_key') }))
    return toUser(row)
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').select(['id', 'username', 'created_at']).where('id', '=', id).executeTakeFirst()
    return row && toUser(row)
  }

  async findCredentials(username: string): Promise<UserCredentials | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()
    return row && { ...toUser(row), passwordHash: row.password_hash }
  }

  async count(): Promise<number> {
    const { count } = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow()
    return count
  }

  async lockForFirstUser(): Promise<void> {
    assertTransaction(this.db, 'UserRepository.lockForFirstUser')
    // SHARE ROW EXCLUSIVE conflicts with itself and with the ROW EXCLUSIVE lock INSERT takes.
    await sql`lock table users in share row exclusive mode`.execute(this.db)
  }
}
