import type { Kysely, Transaction } from 'kysely'
import { retryTransaction } from '../db/retry'
import type { DB } from '../db/types'

/**
 * The one place a transaction starts: commits when `work` resolves, rolls back and rethrows
 * when it throws; a deadlock or serialization failure runs `work` again (retryTransaction).
 * `snapshot`: REPEATABLE READ READ ONLY, so every statement sees the database as of the
 * transaction's first one (https://www.postgresql.org/docs/current/transaction-iso.html).
 */
export function inTransaction<T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>, { snapshot = false } = {}): Promise<T> {
  const builder = snapshot ? db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only') : db.transaction()
  return retryTransaction(() => builder.execute(work))
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
