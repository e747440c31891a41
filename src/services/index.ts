import type { Kysely } from 'kysely'
import type { DB } from '../db/types'
import { createUnitOfWork, repositoriesFor } from '../repositories'
import { AuthService } from './auth-service'
import { CategoryService } from './category-service'
import { HealthService } from './health-service'
import { ImageService } from './image-service'
import { ItemService } from './item-service'
import { OAuthService } from './oauth-service'
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
  oauth: OAuthService
}

export interface ServiceOptions {
  uploadDir: string
  /** GEARBOX_URL: the OAuth issuer; the MCP resource is `<gearboxUrl>/mcp`. */
  gearboxUrl?: string
}

/** Wires every service to repositories over `db`; the server and the tests both start here. */
export function createServices(db: Kysely<DB>, options: ServiceOptions): Services {
  const repos = repositoriesFor(db)
  const unitOfWork = createUnitOfWork(db)
  return {
    auth: new AuthService(repos, unitOfWork),
    categories: new CategoryService(repos, unitOfWork),
    items: new ItemService(repos),
    threads: new ThreadService(repos, unitOfWork),
    setups: new SetupService(repos, unitOfWork),
    settings: new SettingService(repos),
    health: new HealthService(repos.health),
    images: new ImageService(options.uploadDir),
    oauth: new OAuthService(repos, unitOfWork, options.gearboxUrl ?? 'http://localhost:3000'),
  }
}
