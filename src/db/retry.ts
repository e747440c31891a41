import { isRetryableTransactionError } from './errors'

/** Tries of one transaction in all: the first run and up to two more. */
export const TRANSACTION_ATTEMPTS = 3

/**
 * Runs `transaction` (one whole transaction, begin to commit) again when PostgreSQL rolled it
 * back for a deadlock (40P01) or a serialization failure (40001), up to `attempts` runs in
 * all, after a short random pause (10-50 ms, times the attempt) so both sides do not meet again.
 * Other errors, and the last failure (a 503 `unavailable` once translated), are rethrown.
 * `transaction` must have no effects outside the database: it may run more than once.
 */
export async function retryTransaction<T>(transaction: () => Promise<T>, attempts = TRANSACTION_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error
      await Bun.sleep(attempt * (10 + Math.random() * 40))
    }
  }
}
