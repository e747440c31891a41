import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/types'
import { createStore, type Repositories, type Store } from '../../src/repositories'

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
 * The real store over `db`, except that inside `write` and `autocommit` the repository `repo`
 * gets `overrides`. The overrides see the repositories handed out (in `write`, the
 * transaction's), so they can do the real work and then fail or wait.
 */
export function storeWith<K extends keyof Repositories>(db: Kysely<DB>, repo: K, overrides: (repos: Repositories) => Partial<Repositories[K]>): Store {
  const real = createStore(db)
  const patched = (repos: Repositories): Repositories => ({ ...repos, [repo]: Object.assign(Object.create(repos[repo]), overrides(repos)) })
  return {
    read: real.read,
    write: (work) => real.write((repos) => work(patched(repos))),
    autocommit: (statement) => real.autocommit((repos) => statement(patched(repos))),
    snapshot: real.snapshot,
  }
}
