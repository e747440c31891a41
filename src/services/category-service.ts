import type { CategoryPatch, CategorySummary, NewCategory } from '../domain/category'
import { ConflictError } from '../errors'
import type { Store } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'

/** The seeded category that deleted categories hand their items, threads and candidates to. */
export const UNCATEGORIZED_ID = 1

export class CategoryService {
  constructor(private readonly store: Store) {}

  list(): Promise<CategorySummary[]> {
    return this.store.read((repos) => repos.categories.list())
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<CategorySummary>> {
    return this.store.read((repos) => repos.categories.listPage(page))
  }

  /** The new category as a list entry (no items yet). Throws ConflictError when the name is taken. */
  async create(input: NewCategory): Promise<CategorySummary> {
    const category = await this.store.autocommit((repos) => repos.categories.create(input))
    return { ...category, itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0 }
  }

  /** The changed category as a list entry, with its totals. Throws NotFoundError or ConflictError. */
  update(id: number, patch: CategoryPatch): Promise<CategorySummary> {
    return this.store.autocommit((repos) => repos.categories.update(id, patch))
  }

  /** Hands the category's items, threads and candidates to Uncategorized, then deletes it. ConflictError for Uncategorized itself. */
  async delete(id: number): Promise<void> {
    if (id === UNCATEGORIZED_ID) throw new ConflictError('the Uncategorized category cannot be deleted')
    await this.store.write(async (repos) => {
      // Locked first, so the moves below also see an item, thread or candidate that was being added to it.
      await repos.categories.lockById(id)
      await repos.items.reassignCategory(id, UNCATEGORIZED_ID)
      await repos.threads.reassignCategory(id, UNCATEGORIZED_ID)
      await repos.categories.delete(id)
    })
  }
}
