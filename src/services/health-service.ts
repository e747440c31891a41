import { UnavailableError } from '../errors'
import type { HealthRepository } from '../repositories/health-repository'

export class HealthService {
  constructor(private readonly health: HealthRepository) {}

  /** Throws UnavailableError, naming each problem, unless the database answers and is fully migrated. */
  async checkReady(): Promise<void> {
    try {
      await this.health.ping()
    } catch (error) {
      throw new UnavailableError('database unavailable', {
        cause: error,
        details: [{ path: 'database', message: 'does not answer' }],
      })
    }
    const pending = await this.health.pendingMigrations()
    if (pending.length > 0) {
      throw new UnavailableError('database schema is not at the latest migration', {
        details: pending.map((name) => ({ path: 'migrations', message: `${name} is pending` })),
      })
    }
  }
}
