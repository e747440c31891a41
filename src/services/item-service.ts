// PLACEHOLDER: replaced by the real service.
import type { Repositories, UnitOfWork } from '../repositories'

export class ItemService {
  constructor(readonly repos: Repositories) {}}
