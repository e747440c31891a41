import { ConflictError, UnavailableError, ValidationError } from '../errors'

interface PgError {
  code?: string
  constraint?: unknown
  constraint_name?: unknown
  column?: unknown
  column_name?: unknown
}

const CONNECTION_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01',
  '57P02',
  '57P03',
  '53300',
])

/** Whether `error`, or an error it wraps (`cause`), is a connection that failed or was lost. */
export function isConnectionFailure(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as PgError).code
    if (code && CONNECTION_FAILURES.has(code)) return true
  }
  return false
}

/**
 * The connection failed after COMMIT was sent and before its answer came: the server may have
 * committed the transaction or not, and only the database itself can now tell. `cause` is the
 * driver's error.
 */
export class CommitUnknownError extends Error {}

/**
 * Runs `begin(work)`, a driver's transaction (BEGIN, `work`, COMMIT), and tells a lost COMMIT
 * apart: when `work` had finished and the connection then failed, throws CommitUnknownError
 * instead of the driver's error. Any other failure is rethrown as it is: that transaction was
 * rolled back (or never began).
 */
export async function transactionWithCommitOutcome<S, T>(
  begin: (work: (session: S) => Promise<T>) => Promise<T>,
  work: (session: S) => Promise<T>,
): Promise<T> {
  let workDone = false
  try {
    return await begin(async (session) => {
      const result = await work(session)
      workDone = true
      return result
    })
  } catch (error) {
    if (workDone && isConnectionFailure(error)) {
      throw new CommitUnknownError('the connection was lost while committing: the transaction may or may not have committed', { cause: error })
    }
    throw error
  }
}

/**
 * The one place where PostgreSQL error codes become domain errors. Messages name the
 * constraint (our migrations name every one) but never carry SQL or driver text.
 */
export function translateDbError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error
  const e = error as PgError
  // postgres.js names the fields *_name; PGlite uses the short names. Only strings count:
  // Bun puts a numeric source `column` on every Error object.
  const constraint = [e.constraint_name, e.constraint].find((v): v is string => typeof v === 'string')
  const column = [e.column_name, e.column].find((v): v is string => typeof v === 'string')
  switch (e.code) {
    case '23505':
      return new ConflictError(`already exists (${constraint ?? 'unique constraint'})`, constraint)
    case '23503':
      return new ConflictError(`refers to a row that does not exist or is still referenced (${constraint ?? 'foreign key'})`, constraint)
    case '23514':
      return new ValidationError(`value not allowed (${constraint ?? 'check constraint'})`, [
        { path: constraint ?? 'unknown', message: 'violates check constraint' },
      ])
    case '23502':
      return new ValidationError(`${column ?? 'a column'} must not be null`, [{ path: column ?? 'unknown', message: 'required' }])
    case '22P02':
      return new ValidationError('invalid value for its type', [])
    case '22003':
      return new ValidationError('number out of range', [])
    case '2200H':
      // sequence_generator_limit_exceeded: the table's id sequence is at PostgreSQL's largest integer.
      return new ConflictError('no id is left for a new row: its table has used every id up to 2147483647')
    case '22021':
      // PostgreSQL text cannot hold a NUL character ("\u0000" in JSON).
      return new ValidationError('text must not contain NUL characters', [])
  }
  if (e.code && CONNECTION_FAILURES.has(e.code)) return new UnavailableError('database unavailable', { cause: error })
  const busy = e.code ? BUSY[e.code] : undefined
  if (busy) return new UnavailableError(`database busy: ${busy}`, { cause: error })
  return error
}

/**
 * The database is there but did not finish in time, gave up on this transaction so that
 * another could go on, or cannot do the work now for a reason of its own (read-only, out of
 * disk or memory, a file gone): no fault of the request, which may succeed later (PostgreSQL
 * appendix A).
 */
const BUSY: Record<string, string> = {
  '57014': 'statement timed out',
  '55P03': 'lock wait timed out',
  '40P01': 'deadlock detected',
  '40001': 'could not serialize with a concurrent transaction',
  '25006': 'it accepts no writes (read-only: a standby, or default_transaction_read_only)',
  '53100': "its server's disk is full",
  '53200': 'its server is out of memory',
  '58030': 'its server had an I/O error',
  '58P01': 'a file of its data is missing',
}

/**
 * `work`'s outcome, or an UnavailableError (`message`) once `ms` have passed without one, when
 * `onLate` runs too (to deal with what `work` still holds): for waits that must end in time even
 * when the database stops answering altogether (a hung server, a network that drops packets),
 * which no timeout on the server can end.
 */
export function withinMs<T>(work: Promise<T>, ms: number, message: string, onLate: () => void = () => {}): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new UnavailableError(message))
      onLate()
    }, ms)
  })
  work.catch(() => {})
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

/** Codes whose whole transaction may simply be run again: PostgreSQL rolled it back to let another finish. */
const RETRYABLE = new Set(['40P01', '40001'])

/** True for a (translated) deadlock or serialization failure: running the transaction again may succeed. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = error instanceof UnavailableError ? (error.cause as PgError | undefined)?.code : (error as PgError | undefined)?.code
  return typeof code === 'string' && RETRYABLE.has(code)
}

/**
 * For `.catch()` on a write: a violation of one of the named constraints becomes the error
 * the caller should see (bad input, a missing parent, a plainer conflict); anything else is
 * rethrown as it is.
 */
export function onConstraint(errors: Record<string, () => Error>) {
  return (error: unknown): never => {
    const replacement = error instanceof ConflictError && error.constraint !== undefined ? errors[error.constraint] : undefined
    throw replacement ? replacement() : error
  }
}
