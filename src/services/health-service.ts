import { embeddedDatabaseExists } from '../db/database'
import { withinMs } from '../db/errors'
import { UnavailableError } from '../errors'
import type { Store } from '../repositories'

/** How long a readiness check waits for the database: a probe must get its answer in time. */
export const READY_TIMEOUT_MS = 2_000

export class HealthService {
  /** `embeddedDataDir`: the embedded database's directory (`<GEARBOX_DATA_DIR>/db`), when it is the one in use. */
  constructor(
    private readonly store: Store,
    private readonly embeddedDataDir?: string,
  ) {}

  /**
   * Throws UnavailableError, naming each problem, unless the database answers within
   * READY_TIMEOUT_MS, takes writes and is fully migrated, and, embedded, its directory is
   * still there (PGlite answers reads from memory after the directory was deleted, but what it
   * writes is lost).
   */
  async checkReady(): Promise<void> {
    if (this.embeddedDataDir !== undefined && !embeddedDatabaseExists(this.embeddedDataDir)) {
      throw new UnavailableError('database unavailable', {
        details: [{ path: 'database', message: `the embedded database's directory ${this.embeddedDataDir} is gone (deleted while GearBox runs)` }],
      })
    }
    const late = `the database did not answer within ${READY_TIMEOUT_MS / 1000} s`
    let writable: boolean
    let timedOut = false
    try {
      ;({ writable } = await withinMs(
        this.store.read((repos) => repos.health.ping()),
        READY_TIMEOUT_MS,
        late,
        () => {
          timedOut = true
        },
      ))
    } catch (error) {
      throw new UnavailableError('database unavailable', {
        cause: error,
        details: [{ path: 'database', message: timedOut ? `does not answer within ${READY_TIMEOUT_MS / 1000} s` : 'does not answer' }],
      })
    }
    if (!writable) {
      throw new UnavailableError('database accepts no writes', {
        details: [{ path: 'database', message: 'is read-only (a standby, or default_transaction_read_only)' }],
      })
    }
    const pending = await withinMs(
      this.store.read((repos) => repos.health.pendingMigrations()),
      READY_TIMEOUT_MS,
      late,
    )
    if (pending.length > 0) {
      throw new UnavailableError('database schema is not at the latest migration', {
        details: pending.map((name) => ({ path: 'migrations', message: `${name} is pending` })),
      })
    }
  }
}
