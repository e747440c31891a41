// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface UserRepository {
  create(input: { username: string; passwordHash: string }): Promise<{ id: number }>
}

export class KyselyUserRepository implements UserRepository {
  constructor(readonly db: Kysely<DB>) {}
  create(_input: { username: string; passwordHash: string }): Promise<{ id: number }> {
    throw new Error('placeholder: not implemented yet')
  }
}
