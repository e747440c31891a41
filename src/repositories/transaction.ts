import type { Kysely, Transaction } from 'kysely'
import { retryTransaction } from '../db/retry'
import type { DB } from '../db/types'

/**
 * The one place a transaction starts: commits when `work` resolves, rolls back and rethrows
 * when it throws; a deadlock or serialization failure runs `work` again (retryTransaction).
 */
export function inTransaction<T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return retryTransaction(() => db.transaction().execute(work))
}

/** A repository method that needs a transaction was called on repositories outside one: a bug, not bad input. */
export class TransactionRequiredError extends Error {
  constructor(method: string) {
    super(`${method} must run inside a transaction: call it on the repositories Store.write() hands out`)
    this.name = 'TransactionRequiredError'
  }
}

/** Throws TransactionRequiredError unless `db` is bound to a transaction. */
export function assertTransaction(db: Kysely<DB>, method: string): void {
  if (!db.isTransaction) throw new TransactionRequiredError(method)
}
