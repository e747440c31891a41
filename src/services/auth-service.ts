// PLACEHOLDER: replaced by the real service.
import type { Repositories, UnitOfWork } from '../repositories'

export class AuthService {
  constructor(readonly repos: Repositories, readonly unitOfWork: UnitOfWork) {}
  async createApiKey(_userId: number, _name: string): Promise<{ key: string }> {
    throw new Error('placeholder: not implemented yet')
  }
}
