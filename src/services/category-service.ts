import { ConflictError } from '../errors'
import type { Repositories, UnitOfWork } from '../repositories'
import type { Category, CategoryPatch, CategorySummary, NewCategory } from '../repositories/category-repository'
import type { Page, PageRequest } from '../repositories/paging'

/** The seeded category that deleted categories hand their items, threads and candidates to. */
export const UNCATEGORIZED_ID = 1

export class CategoryService {
  constructor(
    private readonly repos: Repositories,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  list(): Promise<CategorySummary[]> {
    return this.repos.categories.list()
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<CategorySummary>> {
    return this.repos.categories.listPage(page)
  }

  /** Throws ConflictError when the name is taken. */
  create(input: NewCategory): Promise<Category> {
    return this.repos.categories.create(input)
  }

  /** Throws NotFoundError, or ConflictError when the new name is taken. */
  update(id: number, patch: CategoryPatch): Promise<Category> {
    return this.repos.categories.update(id, patch)
  }

  /**
   * Hands the category's items, threads and candidates to Uncategorized, then deletes it,
   * all in one transaction. Throws NotFoundError, or ConflictError for Uncategorized itself.
   */
  async delete(id: number): Promise<void> {
    if (id === UNCATEGORIZED_ID) throw new ConflictError('the Uncategorized category cannot be deleted')
    await this.unitOfWork(async (repos) => {
      await repos.items.reassignCategory(id, UNCATEGORIZED_ID)
      await repos.threads.reassignCategory(id, UNCATEGORIZED_ID)
      // A missing category throws here; the moves above touched nothing, and roll back anyway.
      await repos.categories.delete(id)
    })
  }
}
