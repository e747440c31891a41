// PLACEHOLDER: replaced by the real service.
import type { Repositories, UnitOfWork } from '../repositories'

export class CategoryService {
  constructor(readonly repos: Repositories, readonly unitOfWork: UnitOfWork) {}}
