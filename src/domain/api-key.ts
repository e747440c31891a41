import type { Timestamp } from './timestamp'
/** How often a key's last use is recorded at most. */
export const TOUCH_INTERVAL_SECONDS = 60

/** What the owner sees of a key: never the key itself nor its hash. */
export interface ApiKey {
  id: number
  name: string
  prefix: string
  createdAt: Timestamp
  lastUsedAt: Timestamp | null
}

export interface ApiKeyOwner {
  id: number
  userId: number
  lastUsedAt: Date | null
}
