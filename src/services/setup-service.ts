import { NotFoundError, ValidationError } from '../errors'
import type { Repositories, UnitOfWork } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'
import type { Classification, SetupDetail, SetupItemEntry, SetupSummary } from '../repositories/setup-repository'

export class SetupService {
  constructor(
    private readonly repos: Repositories,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  list(): Promise<SetupSummary[]> {
    return this.repos.setups.list()
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<SetupSummary>> {
    return this.repos.setups.listPage(page)
  }

  /** Throws NotFoundError when the setup does not exist. */
  get(id: number): Promise<SetupDetail> {
    return detailOf(this.repos, id)
  }

  /** Returns the new, empty setup in its detail shape. */
  create(input: { name: string }): Promise<SetupDetail> {
    return this.unitOfWork(async (repos) => detailOf(repos, (await repos.setups.create(input)).id))
  }

  /** Throws NotFoundError when the setup does not exist. */
  rename(id: number, name: string): Promise<SetupDetail> {
    return this.unitOfWork(async (repos) => {
      await repos.setups.rename(id, name)
      return detailOf(repos, id)
    })
  }

  /** Throws NotFoundError when the setup does not exist. */
  delete(id: number): Promise<void> {
    return this.repos.setups.delete(id)
  }

  /**
   * Replaces the setup's whole item list in one transaction: either every entry is stored or
   * nothing changes. ValidationError for a repeated or unknown item id, NotFoundError for a
   * missing setup.
   */
  replaceItems(id: number, entries: SetupItemEntry[]): Promise<SetupDetail> {
    const firstIndex = new Map<number, number>()
    const repeats = entries.flatMap(({ itemId }, index) => {
      const first = firstIndex.get(itemId)
      if (first === undefined) firstIndex.set(itemId, index)
      return first === undefined ? [] : [{ path: `items.${index}.itemId`, message: `item ${itemId} is already listed at items.${first}` }]
    })
    if (repeats.length > 0) throw new ValidationError('an item can be in a setup only once', repeats)
    return this.unitOfWork(async (repos) => {
      await repos.setups.replaceItems(id, entries)
      return detailOf(repos, id)
    })
  }

  /** Throws NotFoundError when the setup does not exist or the item is not in it. */
  classifyItem(id: number, itemId: number, classification: Classification): Promise<SetupDetail> {
    return this.unitOfWork(async (repos) => {
      await repos.setups.setClassification(id, itemId, classification)
      return detailOf(repos, id)
    })
  }
}

async function detailOf(repos: Repositories, id: number): Promise<SetupDetail> {
  const detail = await repos.setups.findDetail(id)
  if (!detail) throw new NotFoundError('setup', id)
  return detail
}
