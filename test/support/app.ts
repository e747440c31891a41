import { afterAll, beforeAll, beforeEach } from 'bun:test'
import { createHash } from 'node:crypto'
import { createApp } from '../../src/app'
import { type HttpServer, listen } from '../../src/http-server'
import { repositoriesFor } from '../../src/repositories'
import { createServices, type Services } from '../../src/services'
import { type backend, useTestDatabase } from './database'
import { useTempDir } from './temp-dir'

/** A response's JSON body, untyped: tests assert its shape. */
export const bodyOf = (res: Response): Promise<any> => res.json()

/** Ids a route must refuse with 400: not numbers, not positive, not whole, beyond int4. */
export const BAD_IDS = ['abc', '0', '-1', '1.5', '99999999999']
/** A timestamp as the API writes it. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** The field paths a 400 validation error names, in order. */
export const errorPaths = (res: { body: any }): string[] => res.body.error.details.map((d: { path: string }) => d.path)

/** How the app stores session tokens and API keys: by their SHA-256, in hex. */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

export const OWNER = { username: 'owner', password: 'correct horse battery staple' }

// argon2id is slow on purpose: hash the owner's password once per process, not per test.
let ownerHash: Promise<string> | undefined
const ownerPasswordHash = () => (ownerHash ??= Bun.password.hash(OWNER.password, 'argon2id'))

/**
 * A suite on the whole app over a fresh database per test. Each test starts with the owner
 * account and an API key in `auth` (an Authorization header), so routes can be called at once.
 * With `serve`, the app also listens on a free port through the production HTTP server (listen), and
 * `url` (its GEARBOX_URL) says where.
 */
export function useTestApp(options: { serve?: boolean; on?: typeof backend } = {}) {
  const t = useTestDatabase(options.on)
  const uploadDir = useTempDir('test-uploads')
  let services: Services
  let app: ReturnType<typeof createApp>
  let auth: Record<string, string> = {}
  let ownerId = 0
  let server: HttpServer | undefined
  let url = 'http://localhost:3000'
  beforeAll(async () => {
    if (options.serve) {
      server = await listen((request, env) => app.fetch(request, env), 0, '127.0.0.1')
      url = `http://127.0.0.1:${server.port}`
    }
    services = createServices(t.db, { uploadDir: uploadDir(), gearboxUrl: url })
    app = createApp({ services })
  })
  afterAll(() => server?.stop(true))
  beforeEach(async () => {
    const user = await repositoriesFor(t.db).users.create({ username: OWNER.username, passwordHash: await ownerPasswordHash() })
    ownerId = user.id
    const { key } = await services.auth.createApiKey(user.id, 'tests')
    auth = { authorization: `Bearer ${key}` }
  })

  /** Calls the app as the owner (with the API key, unless `credentials` says otherwise); `body` is sent as JSON. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, credentials = auth) {
    const init: RequestInit = { method, headers: { ...credentials, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      init.headers = { 'content-type': 'application/json', ...init.headers }
    }
    const res = await app.request(path, init)
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
  }

  /** Signs the owner in; returns the `Cookie` header value and the raw session token. */
  async function signIn(): Promise<{ cookie: string; token: string }> {
    const res = await app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) })
    const token = /gearbox_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    if (res.status !== 200 || !token) throw new Error(`sign-in failed: ${res.status}`)
    return { cookie: `gearbox_session=${token}`, token }
  }

  return {
    get db() {
      return t.db
    },
    get app() {
      return app
    },
    get services() {
      return services
    },
    get auth() {
      return auth
    },
    get ownerId() {
      return ownerId
    },
    /** GEARBOX_URL: where the app listens with `serve`, else the default. */
    get url() {
      return url
    },
    /** GEARBOX_UPLOAD_DIR of the suite's app. */
    get uploadDir() {
      return uploadDir()
    },
    call,
    signIn,
  }
}
