import type { Classification, SetupDetail, SetupItemEntry, SetupSummary } from '../domain/setup'
import { NotFoundError, ValidationError } from '../errors'
import type { Repositories, Store } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'

export class SetupService {
  constructor(private readonly store: Store) {}

  list(): Promise<SetupSummary[]> {
    return this.store.read((repos) => repos.setups.list())
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<SetupSummary>> {
    return this.store.read((repos) => repos.setups.listPage(page))
  }

  get(id: number): Promise<SetupDetail> {
    return this.store.read((repos) => detailOf(repos, id))
  }

  create(input: { name: string }): Promise<SetupDetail> {
    return this.store.write(async (repos) => detailOf(repos, (await repos.setups.create(input)).id))
  }

  rename(id: number, name: string): Promise<SetupDetail> {
    return this.store.write(async (repos) => {
      await repos.setups.rename(id, name)
      return detailOf(repos, id)
    })
  }

  delete(id: number): Promise<void> {
    return this.store.autocommit((repos) => repos.setups.delete(id))
  }

  /** Replaces the setup's whole item list, all or nothing. ValidationError (`items.<index>.itemId`) for an item listed twice. */
  replaceItems(id: number, entries: SetupItemEntry[]): Promise<SetupDetail> {
    const firstIndex = new Map<number, number>()
    const repeats = entries.flatMap(({ itemId }, index) => {
      const first = firstIndex.get(itemId)
      if (first === undefined) firstIndex.set(itemId, index)
      return first === undefined ? [] : [{ path: `items.${index}.itemId`, message: `item ${itemId} is already listed at items.${first}` }]
    })
    if (repeats.length > 0) throw new ValidationError('an item can be in a setup only once', repeats)
    return this.store.write(async (repos) => {
      await repos.setups.replaceItems(id, entries)
      return detailOf(repos, id)
    })
  }

  classifyItem(id: number, itemId: number, classification: Classification): Promise<SetupDetail> {
    return this.store.write(async (repos) => {
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
