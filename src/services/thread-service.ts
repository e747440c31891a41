// PLACEHOLDER: replaced by the real service.
import type { Repositories, UnitOfWork } from '../repositories'

export class ThreadService {
  constructor(readonly repos: Repositories, readonly unitOfWork: UnitOfWork) {}}
