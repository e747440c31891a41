// PLACEHOLDER: replaced by the real service.
import type { Repositories, UnitOfWork } from '../repositories'

export class SettingService {
  constructor(readonly repos: Repositories) {}}
