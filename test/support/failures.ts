import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/types'
import { createUnitOfWork, type Repositories, type UnitOfWork } from '../../src/repositories'

/** What `promise` rejected with; a promise that resolves fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/**
 * The real unit of work over `db`, except that `repo` gets `overrides` inside it. The
 * overrides see the transaction's repositories, so they can do the real work and then fail.
 */
export function unitOfWorkWith<K extends keyof Repositories>(db: Kysely<DB>, repo: K, overrides: (repos: Repositories) => Partial<Repositories[K]>): UnitOfWork {
  const real = createUnitOfWork(db)
  return (work) => real((repos) => work({ ...repos, [repo]: Object.assign(Object.create(repos[repo]), overrides(repos)) }))
}
