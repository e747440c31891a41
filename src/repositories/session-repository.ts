import { type Kysely, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import { prepared } from '../db/prepared'
import type { DB } from '../db/types'
import { NotFoundError } from '../errors'

/** A sign-in. `id` is the SHA-256 (hex) of the cookie token; the token itself is never stored. */
export interface Session {
  id: string
  userId: number
  expiresAt: Date
}

export interface SessionRepository {
  /** Throws NotFoundError when the user does not exist. */
  create(session: Session): Promise<Session>
  /** The session with this id, expired or not; callers decide what expiry means. */
  find(id: string): Promise<Session | undefined>
  /** Deletes the session if it exists, in one statement; deleting a missing one is not an error (logout twice). */
  delete(id: string): Promise<void>
  /** Removes every expired session; returns how many went. */
  deleteExpired(): Promise<number>
}

const sessionById = prepared((db, id: string) => db.selectFrom('sessions').selectAll().where('id', '=', id))

export class KyselySessionRepository implements SessionRepository {
  constructor(readonly db: Kysely<DB>) {}

  async create(session: Session): Promise<Session> {
    const row = await this.db
      .insertInto('sessions')
      .values({ id: session.id, user_id: session.userId, expires_at: session.expiresAt })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(onConstraint({ sessions_user_id_fkey: () => new NotFoundError('user', session.userId) }))
    return { id: row.id, userId: row.user_id, expiresAt: row.expires_at }
  }

  async find(id: string): Promise<Session | undefined> {
    const [row] = await sessionById(this.db, id)
    return row && { id: row.id, userId: row.user_id, expiresAt: row.expires_at }
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute()
  }

  async deleteExpired(): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', sql<Date>`now()`).executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
