import { NotFoundError } from '../errors'
import type { Repositories } from '../repositories'
import type { ItemFilter, ItemPatch, ItemWithCategory, NewItem } from '../repositories/item-repository'
import type { Page, PageRequest } from '../repositories/paging'

export class ItemService {
  constructor(private readonly repos: Repositories) {}

  list(filter: ItemFilter): Promise<ItemWithCategory[]> {
    return this.repos.items.list(filter)
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(filter: ItemFilter, page: PageRequest): Promise<Page<ItemWithCategory>> {
    return this.repos.items.listPage(filter, page)
  }

  /** Throws NotFoundError. */
  async get(id: number): Promise<ItemWithCategory> {
    const item = await this.repos.items.findById(id)
    if (!item) throw new NotFoundError('item', id)
    return item
  }

  /** Throws ValidationError (path `categoryId`) when the category does not exist. */
  create(input: NewItem): Promise<ItemWithCategory> {
    return this.repos.items.create(input)
  }

  /** Throws NotFoundError, or ValidationError (path `categoryId`) when the category does not exist. */
  update(id: number, patch: ItemPatch): Promise<ItemWithCategory> {
    return this.repos.items.update(id, patch)
  }

  /** Throws NotFoundError. */
  delete(id: number): Promise<void> {
    return this.repos.items.delete(id)
  }
}
