import { type Kysely, sql } from 'kysely'
import type { DB } from '../db/types'

export interface LoginAttemptCount {
  /** Attempts for this username in the current window, this one included. */
  attempts: number
  /** Whole seconds until the window ends (at least 1). */
  secondsLeft: number
}

export interface LoginAttemptRepository {
  /**
   * Counts one attempt in a single atomic upsert, so concurrent attempts (on any app instance)
   * each get their own number. A window older than `windowSeconds` starts over at 1.
   */
  record(username: string, windowSeconds: number): Promise<LoginAttemptCount>
  /** Forgets the attempts of `username` (after a successful sign-in). */
  clear(username: string): Promise<void>
  /** Removes the rows whose window ended; returns how many went. */
  deleteExpired(windowSeconds: number): Promise<number>
}

export class KyselyLoginAttemptRepository implements LoginAttemptRepository {
  constructor(readonly db: Kysely<DB>) {}

  async record(username: string, windowSeconds: number): Promise<LoginAttemptCount> {
    const window = sql`make_interval(secs => ${windowSeconds}::int)`
    const expired = sql<boolean>`login_attempts.window_started_at <= now() - ${window}`
    const row = await this.db
      .insertInto('login_attempts')
      .values({ username, attempts: 1 })
      .onConflict((oc) =>
        oc.constraint('login_attempts_pkey').doUpdateSet({
          attempts: sql<number>`case when ${expired} then 1 else login_attempts.attempts + 1 end`,
          window_started_at: sql<Date>`case when ${expired} then now() else login_attempts.window_started_at end`,
        }),
      )
      .returning([
        'attempts',
        sql<number>`greatest(1, ceil(extract(epoch from window_started_at + ${window} - now())))::int`.as('seconds_left'),
      ])
      .executeTakeFirstOrThrow()
    return { attempts: row.attempts, secondsLeft: row.seconds_left }
  }

  async clear(username: string): Promise<void> {
    await this.db.deleteFrom('login_attempts').where('username', '=', username).execute()
  }

  async deleteExpired(windowSeconds: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_attempts')
      .where(sql<boolean>`window_started_at <= now() - make_interval(secs => ${windowSeconds}::int)`)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
