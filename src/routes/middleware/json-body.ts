import type { Context, MiddlewareHandler } from 'hono'
import { type FieldProblem, ValidationError } from '../../errors'
import { incomingOf } from '../bindings'
import type { AppEnv } from '../router'

const JSON_TYPE = /^application\/([\w.+-]+\+)?json$/i

/** The media type of a Content-Type header without its parameters, lower-cased (RFC 9110 section 8.3.1); '' when there is none. */
export const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase() ?? ''

/**
 * Every JSON request body passes here before a route reads it: it must be valid UTF-8
 * (RFC 8259 section 8.1), hold no duplicate keys (section 4 leaves them undefined; we refuse
 * them), nest no deeper than MAX_JSON_DEPTH (section 9 lets a parser set that limit), and no
 * string may carry a lone surrogate or a NUL (PostgreSQL text stores neither).
 * Anything else is a 400 naming the field. The checked text is left in Hono's body cache, so
 * `c.req.json()` and the routes' validators read exactly this text. Syntax errors are left to
 * the validators, which answer them as before. With `strings: false` the strings' text is not
 * checked: the handler checks what it takes from the body (textProblem), as MCP tools must
 * answer a bad argument with a tool result rather than an HTTP error; for the same reason, a
 * duplicate key inside an object `keysLeftAt` accepts is left to the handler (duplicateKeysAt). With `raw: true`,
 * `c.req.raw` is replaced by a Request carrying the checked bytes, for a handler that reads
 * the Request itself; otherwise its body is consumed.
 */
export const strictJsonBody =
  ({ strings = true, raw = false, keysLeftAt }: { strings?: boolean; raw?: boolean; keysLeftAt?: PathFilter } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    if (!JSON_TYPE.test(mediaType(c.req.header('content-type'))) || !hasBody(c)) return next()
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    const problem = checkJsonBody(bytes, { strings, keysLeftAt })
    if (problem)
      throw new ValidationError('invalid body', [problem])
      // Hono caches a promise per body type (its declared type says otherwise); json() reads `text`.
    ;(c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(new TextDecoder().decode(bytes))
    // RFC 9110 section 8.3.1 allows whitespace before a parameter's `;` (`application/json ;charset=utf-8`),
    // which Hono's validators refuse as another media type: they get the same type without it.
    const header = c.req.header('content-type') ?? ''
    const contentType = header.replace(/[ \t]+;/g, ';')
    if (raw || contentType !== header) {
      // Handlers that read the raw Request (the MCP transport) get the same, checked bytes. Built
      // field by field: the node:http adapter's request is not a Request, and `new Request(it)`
      // would read only its URL and make it a GET.
      const { url, method, signal } = c.req.raw
      const headers = new Headers(c.req.raw.headers)
      headers.set('content-type', contentType)
      c.req.raw = new Request(url, { method, headers, signal, body: bytes })
    }
    return next()
  }

/**
 * Whether the request carries a body, told by its Content-Length or Transfer-Encoding header:
 * a request off the wire with neither has none (RFC 9112 section 6.3), as a browser's DELETE.
 * Only a Request handed to the app directly (`app.request()`, no node:http bindings in
 * `c.env`) can carry one without them; that one is asked itself. Reading `c.req.raw.body`
 * would also make the node:http adapter build a whole second Request.
 */
export function hasBody(c: Context<AppEnv>): boolean {
  const length = c.req.header('content-length')
  if (length !== undefined) return Number(length) > 0
  if (c.req.header('transfer-encoding') !== undefined) return true
  return incomingOf(c) === undefined && c.req.raw.body !== null
}

/** Which objects' duplicate keys a caller checks itself: given the path of the object (`['0', 'params', 'arguments']`). */
export type PathFilter = (path: readonly string[]) => boolean

/**
 * The first problem of a JSON body given as bytes, or undefined when it is fine (or not JSON
 * at all). Duplicate keys in an object `keysLeftAt` accepts are not a problem here (see duplicateKeysAt).
 */
export function checkJsonBody(
  bytes: Uint8Array,
  { strings = true, keysLeftAt }: { strings?: boolean; keysLeftAt?: PathFilter } = {},
): FieldProblem | undefined {
  let text: string
  let invalidAt: number | undefined
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    text = new TextDecoder().decode(bytes)
    invalidAt = firstReplacedCharacter(bytes, text)
  }
  try {
    JSON.parse(text)
  } catch {
    return invalidAt === undefined ? undefined : { path: 'body', message: 'is not valid UTF-8' }
  }
  return new Scanner(text, invalidAt, strings, keysLeftAt).value([]) ?? (invalidAt === undefined ? undefined : { path: 'body', message: 'is not valid UTF-8' })
}

/**
 * The paths of the duplicate keys of well-formed JSON `text` in the objects `at` accepts
 * (`['0', 'params', 'arguments', 'name']`): what checkJsonBody left to its caller.
 */
export function duplicateKeysAt(text: string, at: PathFilter): string[][] {
  const found: string[][] = []
  new Scanner(text, undefined, false, at, (key) => found.push(key)).value([])
  return found
}

/**
 * `text` is `bytes` decoded with replacement: the index of the first U+FFFD that stands for
 * invalid bytes rather than an encoded U+FFFD (EF BF BD) in the input.
 */
function firstReplacedCharacter(bytes: Uint8Array, text: string): number | undefined {
  let offset = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0xfffd && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return i
    // UTF-8 length of this UTF-16 unit: a surrogate pair is 4 bytes, counted at its first half.
    offset += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : c >= 0xdc00 && c <= 0xdfff ? 0 : 3
  }
  return undefined
}

// Without the u flag a regex sees UTF-16 code units: a high half not followed by a low one, or a low one alone.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** What is wrong with a string PostgreSQL text cannot hold as it is, or undefined when it is fine. */
export function textProblem(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode (a lone surrogate)'
  if (value.includes('\0')) return 'must not contain NUL characters'
  return undefined
}

/** The first string (key or value) in a parsed JSON value that textProblem refuses, named by its path as strictJsonBody names it. */
export function findTextProblem(value: unknown, path: string[] = []): FieldProblem | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value)
    return message === undefined ? undefined : { path: join(path), message }
  }
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, child] of Object.entries(value)) {
    const keyPath = [...path, key]
    const message = Array.isArray(value) ? undefined : textProblem(key)
    const problem = message === undefined ? findTextProblem(child, keyPath) : { path: join(keyPath), message }
    if (problem) return problem
  }
  return undefined
}

/**
 * How deep objects and arrays may nest in a request body. GearBox's own bodies go four levels
 * deep at most (an MCP call's arguments included); a limit keeps the walk below cheap and
 * bounded, as a body nested 20,000 deep would otherwise hold the server for seconds.
 */
export const MAX_JSON_DEPTH = 32

/** Walks JSON text already known to be well-formed, tracking the path to each string. */
class Scanner {
  private i = 0

  constructor(
    private readonly text: string,
    private readonly invalidAt: number | undefined,
    private readonly strings: boolean,
    /** Objects whose duplicate keys are not this scan's to refuse... */
    private readonly keysLeftAt?: PathFilter,
    /** ...but are told here, if given (the key's path). */
    private readonly onLeftKey?: (key: string[]) => void,
  ) {}

  value(path: string[]): FieldProblem | undefined {
    this.skipSpace()
    const c = this.text[this.i]
    if ((c === '{' || c === '[') && path.length >= MAX_JSON_DEPTH) return { path: join(path), message: `nests deeper than ${MAX_JSON_DEPTH} levels` }
    if (c === '{') return this.object(path)
    if (c === '[') return this.array(path)
    if (c === '"') return this.string(path).problem
    while (this.i < this.text.length && !',]} \t\n\r'.includes(this.text[this.i]!)) this.i++
    return undefined
  }

  private object(path: string[]): FieldProblem | undefined {
    this.i++
    const keys = new Set<string>()
    for (;;) {
      this.skipSpace()
      if (this.text[this.i] === '}') return void this.i++
      const key = this.string(path)
      const keyPath = [...path, key.value]
      if (key.problem) return { ...key.problem, path: join(keyPath) }
      if (keys.has(key.value)) {
        if (!this.keysLeftAt?.(path)) return { path: join(keyPath), message: 'duplicate key' }
        this.onLeftKey?.(keyPath)
      }
      keys.add(key.value)
      this.skipSpace()
      this.i++ // ':'
      const problem = this.value(keyPath)
      if (problem) return problem
      this.skipSpace()
      if (this.text[this.i] === ',') this.i++
    }
  }

  private array(path: string[]): FieldProblem | undefined {
    this.i++
    for (let index = 0; ; index++) {
      this.skipSpace()
      if (this.text[this.i] === ']') return void this.i++
      const problem = this.value([...path, String(index)])
      if (problem) return problem
      this.skipSpace()
      if (this.text[this.i] === ',') this.i++
    }
  }

  private string(path: string[]): { value: string; problem?: FieldProblem } {
    const start = this.i
    this.i++
    while (this.text[this.i] !== '"') this.i += this.text[this.i] === '\\' ? 2 : 1
    this.i++
    const value = JSON.parse(this.text.slice(start, this.i)) as string
    const at = (message: string) => ({ value, problem: { path: join(path), message } })
    if (this.invalidAt !== undefined && this.invalidAt > start && this.invalidAt < this.i) return at('is not valid UTF-8')
    const problem = this.strings ? textProblem(value) : undefined
    return problem === undefined ? { value } : at(problem)
  }

  private skipSpace() {
    while (' \t\n\r'.includes(this.text[this.i] ?? '-')) this.i++
  }
}

/** Body fields go by their own path (`items.2.itemId`), like the validators' errors; the whole body is `body`. */
const join = (path: string[]) => path.join('.') || 'body'
