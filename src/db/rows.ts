import type { Selectable } from 'kysely'
import type { Categories, Items } from './types'

/** Row shapes as SELECT returns them; repositories map these to domain objects. */
export type CategoryRow = Selectable<Categories>
export type ItemRow = Selectable<Items>
