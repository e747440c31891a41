import type { Timestamp } from './timestamp'
export interface User {
  id: number
  username: string
  createdAt: Timestamp
}

/** A user with the stored password hash; only sign-in needs it, so nothing else reads it. */
export interface UserCredentials extends User {
  passwordHash: string
}
