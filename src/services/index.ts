import type { Kysely } from 'kysely'
import type { LoginThrottle } from '../config'
import type { DB } from '../db/types'
import { createUnitOfWork, repositoriesFor } from '../repositories'
import { AuthService } from './auth-service'
import { CategoryService } from './category-service'
import { HealthService } from './health-service'
import { ImageService } from './image-service'
import { ItemService } from './item-service'
import { SettingService } from './setting-service'
import { SetupService } from './setup-service'
import { ThreadService } from './thread-service'

export interface Services {
  auth: AuthService
  categories: CategoryService
  items: ItemService
  threads: ThreadService
  setups: SetupService
  settings: SettingService
  health: HealthService
  images: ImageService
}

export interface ServiceOptions {
  uploadDir: string
  /** Sign-in throttling; DEFAULT_LOGIN_THROTTLE when absent. */
  loginThrottle?: LoginThrottle
}

/** Wires every service to repositories over `db`; the server and the tests both start here. */
export function createServices(db: Kysely<DB>, options: ServiceOptions): Services {
  const repos = repositoriesFor(db)
  const unitOfWork = createUnitOfWork(db)
  return {
    auth: new AuthService(repos, unitOfWork, options.loginThrottle),
    categories: new CategoryService(repos, unitOfWork),
    items: new ItemService(repos),
    threads: new ThreadService(repos, unitOfWork),
    setups: new SetupService(repos, unitOfWork),
    settings: new SettingService(repos),
    health: new HealthService(repos.health),
    images: new ImageService(options.uploadDir),
  }
}
