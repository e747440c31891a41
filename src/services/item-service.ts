import type { ItemFilter, ItemPatch, ItemWithCategory, NewItem } from '../domain/item'
import { NotFoundError } from '../errors'
import type { Store } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'

export class ItemService {
  constructor(private readonly store: Store) {}

  list(filter: ItemFilter): Promise<ItemWithCategory[]> {
    return this.store.read((repos) => repos.items.list(filter))
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(filter: ItemFilter, page: PageRequest): Promise<Page<ItemWithCategory>> {
    return this.store.read((repos) => repos.items.listPage(filter, page))
  }

  async get(id: number): Promise<ItemWithCategory> {
    const item = await this.store.read((repos) => repos.items.findById(id))
    if (!item) throw new NotFoundError('item', id)
    return item
  }

  create(input: NewItem): Promise<ItemWithCategory> {
    return this.store.autocommit((repos) => repos.items.create(input))
  }

  update(id: number, patch: ItemPatch): Promise<ItemWithCategory> {
    return this.store.autocommit((repos) => repos.items.update(id, patch))
  }

  /**
   * Also takes it out of every setup, whose updatedAt moves (their lists change), also one that
   * a concurrent setup write added it to (else the cascade removed it from a setup that was
   * never touched). Throws NotFoundError.
   */
  delete(id: number): Promise<void> {
    return this.store.write(async (repos) => {
      // The setups holding it first, then the item: the order in which a setup's items are
      // replaced (the setup, then its items), so the two never deadlock. Touched again once the
      // item is locked, for a setup that took it in while this waited.
      await repos.setups.touchContaining(id)
      await repos.items.lock(id)
      await repos.setups.touchContaining(id)
      await repos.items.delete(id)
    })
  }
}
