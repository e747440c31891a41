import { createHash, randomBytes } from 'node:crypto'
import type { LoginThrottle } from '../config'
import { type ApiKey, TOUCH_INTERVAL_SECONDS } from '../domain/api-key'
import type { User } from '../domain/user'
import { ConflictError, TooManyRequestsError, UnauthorizedError } from '../errors'
import type { Store } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'

export const SESSION_TTL_SECONDS = 30 * 24 * 60 * 60
const API_KEY_PREFIX = 'gbx_'
const KEY_PREFIX_LENGTH = 12

export interface Authenticated {
  userId: number
}

export interface SignIn {
  user: User
  /** The cookie value; only its hash is stored. */
  token: string
}

export type CreatedApiKey = ApiKey & { key: string }

/** Sign-in attempts allowed per username and client address within one window (a success there starts over), and the cap on stored counts. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottle = { maxAttempts: 5, windowSeconds: 15 * 60, maxRows: 10_000 }

/** 32 random bytes, base64url: the secret part of session tokens and API keys. */
export const randomToken = () => randomBytes(32).toString('base64url')
export const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex')
const hashPassword = (password: string) => Bun.password.hash(password, 'argon2id')

// Unknown usernames still cost one argon2 verify, so timing does not tell which names exist.
let dummyHash: Promise<string> | undefined
const dummyPasswordHash = () => (dummyHash ??= hashPassword(randomToken()))

export class AuthService {
  constructor(
    private readonly store: Store,
    readonly throttle: LoginThrottle = DEFAULT_LOGIN_THROTTLE,
  ) {}

  /** Creates the first (owner) account. Throws ConflictError once any user exists. */
  async setup(username: string, password: string): Promise<User> {
    const done = () => new ConflictError('setup is already done')
    // Checked before hashing too, so calls after setup cost no argon2 work.
    if ((await this.store.read((repos) => repos.users.count())) > 0) throw done()
    const passwordHash = await hashPassword(password)
    return this.store.write(async (repos) => {
      await repos.users.lockForFirstUser()
      if ((await repos.users.count()) > 0) throw done()
      return repos.users.create({ username, passwordHash })
    })
  }

  /**
   * Checks the password and opens a session. Throws UnauthorizedError on bad credentials and
   * TooManyRequestsError (with the seconds until the window ends) once this username used up
   * its attempts from `clientAddress`: failures from one address never lock out another.
   */
  async login(username: string, password: string, clientAddress: string): Promise<SignIn> {
    const { maxAttempts, windowSeconds, maxRows } = this.throttle
    // Counted before checking, so parallel guesses cannot slip past the limit.
    const { attempts, secondsLeft } = await this.store.write(async (repos) => {
      const counted = await repos.loginAttempts.record(username, clientAddress, windowSeconds)
      // Every attempt prunes, so a flood of names cannot grow the table past maxRows.
      await repos.loginAttempts.prune(windowSeconds, maxRows)
      return counted
    })
    if (attempts > maxAttempts) throw new TooManyRequestsError('too many sign-in attempts; try again later', secondsLeft)
    const credentials = await this.store.read((repos) => repos.users.findCredentials(username))
    const ok = await Bun.password.verify(password, credentials?.passwordHash ?? (await dummyPasswordHash()))
    if (!credentials || !ok) throw new UnauthorizedError('wrong username or password')
    const { passwordHash: _, ...user } = credentials
    const token = randomToken()
    await this.store.write(async (repos) => {
      await repos.loginAttempts.clear(username, clientAddress)
      // Housekeeping rides on sign-ins (rare, and the delete uses an index).
      await repos.sessions.deleteExpired()
      await repos.sessions.create({ id: sha256Hex(token), userId: user.id, expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000) })
    })
    return { user, token }
  }

  async logout(token: string): Promise<void> {
    await this.store.autocommit((repos) => repos.sessions.delete(sha256Hex(token)))
  }

  /** The session's user, or undefined for an unknown or expired token (expired ones are deleted). */
  async authenticateSession(token: string): Promise<Authenticated | undefined> {
    const id = sha256Hex(token)
    const session = await this.store.read((repos) => repos.sessions.find(id))
    if (!session) return undefined
    if (session.expiresAt.getTime() <= Date.now()) {
      await this.store.autocommit((repos) => repos.sessions.delete(id))
      return undefined
    }
    return { userId: session.userId }
  }

  /** The key's owner, or undefined for an unknown key. Records use at most once a minute per key. */
  async authenticateApiKey(key: string): Promise<Authenticated | undefined> {
    if (!key.startsWith(API_KEY_PREFIX)) return undefined
    const found = await this.store.read((repos) => repos.apiKeys.findByHash(sha256Hex(key)))
    if (!found) return undefined
    // Checked here too, so most requests skip the UPDATE; the repository's own check settles races.
    if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() >= TOUCH_INTERVAL_SECONDS * 1000)
      await this.store.autocommit((repos) => repos.apiKeys.touch(found.id))
    return { userId: found.userId }
  }

  /** Throws UnauthorizedError when the user is gone (deleted while signed in). */
  async currentUser(userId: number): Promise<User> {
    const user = await this.store.read((repos) => repos.users.findById(userId))
    if (!user) throw new UnauthorizedError('not signed in')
    return user
  }

  listApiKeys(userId: number): Promise<ApiKey[]> {
    return this.store.read((repos) => repos.apiKeys.listByUser(userId))
  }

  /** One page of the user's keys, oldest first. Throws ValidationError for a bad cursor. */
  listApiKeysPage(userId: number, page: PageRequest): Promise<Page<ApiKey>> {
    return this.store.read((repos) => repos.apiKeys.listPageByUser(userId, page))
  }

  /** The plaintext key is returned here once; only its hash and a display prefix are stored. */
  async createApiKey(userId: number, name: string): Promise<CreatedApiKey> {
    const key = API_KEY_PREFIX + randomToken()
    const apiKey = await this.store.autocommit((repos) =>
      repos.apiKeys.create({ userId, name, keyHash: sha256Hex(key), keyPrefix: key.slice(0, KEY_PREFIX_LENGTH) }),
    )
    return { ...apiKey, key }
  }

  deleteApiKey(userId: number, id: number): Promise<void> {
    return this.store.autocommit((repos) => repos.apiKeys.delete(userId, id))
  }
}
