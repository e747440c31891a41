import { UnavailableError } from '../errors'
import type { Store } from '../repositories'

export class HealthService {
  constructor(private readonly store: Store) {}

  /** Throws UnavailableError, naming each problem, unless the database answers and is fully migrated. */
  async checkReady(): Promise<void> {
    try {
      await this.store.read((repos) => repos.health.ping())
    } catch (error) {
      throw new UnavailableError('database unavailable', {
        cause: error,
        details: [{ path: 'database', message: 'does not answer' }],
      })
    }
    const pending = await this.store.read((repos) => repos.health.pendingMigrations())
    if (pending.length > 0) {
      throw new UnavailableError('database schema is not at the latest migration', {
        details: pending.map((name) => ({ path: 'migrations', message: `${name} is pending` })),
      })
    }
  }
}
