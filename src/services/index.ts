import type { Kysely } from 'kysely'
import type { LoginThrottle } from '../config'
import type { DB } from '../db/types'
import { createStore } from '../repositories'
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
  /** Store.snapshot: the reads of the services inside `work` all see one moment of the database. */
  snapshot<T>(work: () => Promise<T>): Promise<T>
}

export interface ServiceOptions {
  uploadDir: string
  /** Sign-in throttling; DEFAULT_LOGIN_THROTTLE when absent. */
  loginThrottle?: LoginThrottle
  /** GEARBOX_URL: the OAuth issuer; the MCP resource is `<gearboxUrl>/mcp`. */
  gearboxUrl?: string
  /** The embedded database's directory (`<GEARBOX_DATA_DIR>/db`) when it is the database: readiness checks it is still there. */
  embeddedDataDir?: string
}

/** Wires every service to repositories over `db`; the server and the tests both start here. */
export function createServices(db: Kysely<DB>, options: ServiceOptions): Services {
  const store = createStore(db)
  return {
    auth: new AuthService(store, options.loginThrottle),
    categories: new CategoryService(store),
    items: new ItemService(store),
    threads: new ThreadService(store),
    setups: new SetupService(store),
    settings: new SettingService(store),
    health: new HealthService(store, options.embeddedDataDir),
    images: new ImageService(options.uploadDir),
    oauth: new OAuthService(store, options.gearboxUrl ?? 'http://localhost:3000'),
    snapshot: (work) => store.snapshot(work),
  }
}
