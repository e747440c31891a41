import { createHash, randomBytes } from 'node:crypto'
import { ConflictError, TooManyRequestsError, UnauthorizedError } from '../errors'
import type { Repositories, UnitOfWork } from '../repositories'
import { type ApiKey, TOUCH_INTERVAL_SECONDS } from '../repositories/api-key-repository'
import type { Page, PageRequest } from '../repositories/paging'
import type { User } from '../repositories/user-repository'

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

/** Sign-in attempts allowed per username within one window; a success starts over. */
export const MAX_LOGIN_ATTEMPTS = 5
export const LOGIN_WINDOW_SECONDS = 15 * 60

/** 32 random bytes, base64url: the secret part of session tokens and API keys. */
const randomToken = () => randomBytes(32).toString('base64url')
const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex')
const hashPassword = (password: string) => Bun.password.hash(password, 'argon2id')

// Unknown usernames still cost one argon2 verify, so timing does not tell which names exist.
let dummyHash: Promise<string> | undefined
const dummyPasswordHash = () => (dummyHash ??= hashPassword(randomToken()))

export class AuthService {
  constructor(
    readonly repos: Repositories,
    readonly unitOfWork: UnitOfWork,
  ) {}

  /** Creates the first (owner) account. Throws ConflictError once any user exists. */
  async setup(username: string, password: string): Promise<User> {
    const done = () => new ConflictError('setup is already done')
    // Checked before hashing too, so calls after setup cost no argon2 work.
    if ((await this.repos.users.count()) > 0) throw done()
    const passwordHash = await hashPassword(password)
    return this.unitOfWork(async (repos) => {
      await repos.users.lockForFirstUser()
      if ((await repos.users.count()) > 0) throw done()
      return repos.users.create({ username, passwordHash })
    })
  }

  /**
   * Checks the password and opens a session. Throws UnauthorizedError on bad credentials and
   * TooManyRequestsError once a username used up its attempts for the window.
   */
  async login(username: string, password: string): Promise<SignIn> {
    // Counted before checking, so parallel guesses cannot slip past the limit.
    const { attempts, secondsLeft } = await this.repos.loginAttempts.record(username, LOGIN_WINDOW_SECONDS)
    if (attempts > MAX_LOGIN_ATTEMPTS) throw new TooManyRequestsError('too many sign-in attempts; try again later', secondsLeft)
    const credentials = await this.repos.users.findCredentials(username)
    const ok = await Bun.password.verify(password, credentials?.passwordHash ?? (await dummyPasswordHash()))
    if (!credentials || !ok) throw new UnauthorizedError('wrong username or password')
    await this.repos.loginAttempts.clear(username)
    // Housekeeping rides on sign-ins (rare, and both deletes use an index or a tiny table).
    await this.repos.sessions.deleteExpired()
    await this.repos.loginAttempts.deleteExpired(LOGIN_WINDOW_SECONDS)
    const { passwordHash: _, ...user } = credentials
    const token = randomToken()
    await this.repos.sessions.create({ id: sha256Hex(token), userId: user.id, expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000) })
    return { user, token }
  }

  async logout(token: string): Promise<void> {
    await this.repos.sessions.delete(sha256Hex(token))
  }

  /** The session's user, or undefined for an unknown or expired token (expired ones are deleted). */
  async authenticateSession(token: string): Promise<Authenticated | undefined> {
    const id = sha256Hex(token)
    const session = await this.repos.sessions.find(id)
    if (!session) return undefined
    if (session.expiresAt.getTime() <= Date.now()) {
      await this.repos.sessions.delete(id)
      return undefined
    }
    return { userId: session.userId }
  }

  /** The key's owner, or undefined for an unknown key. Records use at most once a minute per key. */
  async authenticateApiKey(key: string): Promise<Authenticated | undefined> {
    if (!key.startsWith(API_KEY_PREFIX)) return undefined
    const found = await this.repos.apiKeys.findByHash(sha256Hex(key))
    if (!found) return undefined
    // Checked here too, so most requests skip the UPDATE; the repository's own check settles races.
    if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() >= TOUCH_INTERVAL_SECONDS * 1000) await this.repos.apiKeys.touch(found.id)
    return { userId: found.userId }
  }

  /** Throws UnauthorizedError when the user is gone (deleted while signed in). */
  async currentUser(userId: number): Promise<User> {
    const user = await this.repos.users.findById(userId)
    if (!user) throw new UnauthorizedError('not signed in')
    return user
  }

  listApiKeys(userId: number): Promise<ApiKey[]> {
    return this.repos.apiKeys.listByUser(userId)
  }

  /** One page of the user's keys, oldest first. Throws ValidationError for a bad cursor. */
  listApiKeysPage(userId: number, page: PageRequest): Promise<Page<ApiKey>> {
    return this.repos.apiKeys.listPageByUser(userId, page)
  }

  /** The plaintext key is returned here once; only its hash and a display prefix are stored. */
  async createApiKey(userId: number, name: string): Promise<CreatedApiKey> {
    const key = API_KEY_PREFIX + randomToken()
    const apiKey = await this.repos.apiKeys.create({ userId, name, keyHash: sha256Hex(key), keyPrefix: key.slice(0, KEY_PREFIX_LENGTH) })
    return { ...apiKey, key }
  }

  /** Throws NotFoundError when the key is missing or not this user's. */
  deleteApiKey(userId: number, id: number): Promise<void> {
    return this.repos.apiKeys.delete(userId, id)
  }
}
