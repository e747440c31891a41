import { type Kysely, sql } from 'kysely'
import type { DB } from '../db/types'

export interface LoginAttemptCount {
  /** Attempts for this username from this address in the current window, this one included. */
  attempts: number
  /** Whole seconds until the window ends (at least 1). */
  secondsLeft: number
}

export interface LoginAttemptRepository {
  /**
   * Counts one attempt for `username` from `clientAddress` in a single atomic upsert, so
   * concurrent attempts (on any app instance) each get their own number. A window older than
   * `windowSeconds` starts over at 1; attempts inside a window never move its end.
   */
  record(username: string, clientAddress: string, windowSeconds: number): Promise<LoginAttemptCount>
  /** Forgets the attempts of `username` from `clientAddress` (after a successful sign-in there). */
  clear(username: string, clientAddress: string): Promise<void>
  /**
   * Keeps the table bounded: removes the rows whose window ended and, beyond `maxRows`, the
   * rows least worth keeping (fewest attempts, then oldest window), so that rows which hold
   * a lock outlive a flood of one-off names. Returns how many rows went.
   */
  prune(windowSeconds: number, maxRows: number): Promise<number>
}

export class KyselyLoginAttemptRepository implements LoginAttemptRepository {
  constructor(readonly db: Kysely<DB>) {}

  async record(username: string, clientAddress: string, windowSeconds: number): Promise<LoginAttemptCount> {
    const window = sql`make_interval(secs => ${windowSeconds}::int)`
    const expired = sql<boolean>`login_attempts.window_started_at <= now() - ${window}`
    const row = await this.db
      .insertInto('login_attempts')
      .values({ username, client_address: clientAddress, attempts: 1 })
      .onConflict((oc) =>
        oc.constraint('login_attempts_pkey').doUpdateSet({
          attempts: sql<number>`case when ${expired} then 1 else login_attempts.attempts + 1 end`,
          window_started_at: sql<Date>`case when ${expired} then now() else login_attempts.window_started_at end`,
        }),
      )
      .returning(['attempts', sql<number>`greatest(1, ceil(extract(epoch from window_started_at + ${window} - now())))::int`.as('seconds_left')])
      .executeTakeFirstOrThrow()
    return { attempts: row.attempts, secondsLeft: row.seconds_left }
  }

  async clear(username: string, clientAddress: string): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('username', '=', username).where('client_address', '=', clientAddress).execute()
  }

  async prune(windowSeconds: number, maxRows: number): Promise<number> {
    const ended = sql<boolean>`window_started_at <= now() - make_interval(secs => ${windowSeconds}::int)`
    const result = await this.db
      .deleteFrom('login_attempts')
      .where((eb) =>
        eb.or([
          ended,
          eb(
            eb.refTuple('username', 'client_address'),
            'in',
            eb
              .selectFrom('login_attempts as kept')
              .select(['kept.username', 'kept.client_address'])
              .orderBy('kept.attempts', 'desc')
              .orderBy('kept.window_started_at', 'desc')
              .offset(maxRows)
              .$asTuple('username', 'client_address'),
          ),
        ]),
      )
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
