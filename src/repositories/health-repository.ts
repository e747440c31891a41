import { type Kysely, sql } from 'kysely'
import { pendingMigrations } from '../db/migrator'
import type { DB } from '../db/types'

export interface HealthRepository {
  /**
   * Resolves when the database answers a query, with whether it takes writes (false on a
   * standby, or with default_transaction_read_only); throws UnavailableError when it cannot be reached.
   */
  ping(): Promise<{ writable: boolean }>
  /** Names of migrations on disk that the database has not applied. */
  pendingMigrations(): Promise<string[]>
}

export class KyselyHealthRepository implements HealthRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async ping(): Promise<{ writable: boolean }> {
    const { rows } = await sql<{ writable: boolean }>`select current_setting('transaction_read_only') = 'off' as writable`.execute(this.db)
    return { writable: rows[0]?.writable ?? false }
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.db)
  }
}
