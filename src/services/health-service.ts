// PLACEHOLDER: replaced by the real service.
import type { HealthRepository } from '../repositories/health-repository'

export class HealthService {
  constructor(readonly health: HealthRepository) {}}
