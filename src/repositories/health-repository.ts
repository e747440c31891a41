import { type Kysely, sql } from 'kysely'
import { pendingMigrations } from '../db/migrator'
import type { DB } from '../db/types'

export interface HealthRepository {
  /** Resolves when the database answers a query; throws UnavailableError when it cannot be reached. */
  ping(): Promise<void>
  /** Names of migrations on disk that the database has not applied. */
  pendingMigrations(): Promise<string[]>
}

export class KyselyHealthRepository implements HealthRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db)
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.db)
  }
}
