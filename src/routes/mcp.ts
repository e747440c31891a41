import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  isJSONRPCRequest,
  ListToolsRequestSchema,
  PingRequestSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js'
import type { Context, MiddlewareHandler } from 'hono'
import type { z } from 'zod'
import { type FieldProblem, ForbiddenError, PayloadTooLargeError, ValidationError } from '../errors'
import { errorResponse, unavailableResponse } from '../schemas/common'
import type { Services } from '../services'
import { errorBody } from './error-handler'
import { createMcpServer, type SentCall } from './mcp-tools'
import { bearerToken } from './middleware/auth'
import { acceptBody, type BodyRule, JSON_BODY } from './middleware/body'
import { duplicateKeysAt } from './middleware/json-body'
import { type AppEnv, createRouter } from './router'

/** JSON-RPC bodies are small; the SDK answers a larger one with 413 before parsing it. */
const MAX_MCP_BODY_BYTES = 1024 * 1024

/** The path of a message's arguments, or of an object inside them (`['params', 'arguments']`, `['2', 'params', 'arguments', 'items', '0']` in a batch). */
const argumentsPath = (path: readonly string[]) => {
  const at = /^\d+$/.test(path[0] ?? '') ? 1 : 0
  return path[at] === 'params' && path[at + 1] === 'arguments'
}

/**
 * JSON-RPC as any JSON body, but the strings and the duplicate keys of a tool's arguments are
 * left to the tools: a lone surrogate, a NUL or a key given twice in an argument is that tool's
 * failure (isError, as api.md answers every tool failure), not an HTTP 400 the client sees as
 * a broken transport. A duplicate key elsewhere makes the message unreadable: -32700.
 */
const MCP_BODY: BodyRule = { ...JSON_BODY, checkStrings: false, rawRequest: true, keysLeftAt: argumentsPath }

/** A JSON-RPC 2.0 error response with a null id (JSON-RPC 2.0 section 5.1), as the SDK's transport answers a body it cannot read. */
const jsonRpcError = (c: Context<AppEnv>, status: 400 | 413, code: number, message: string) =>
  c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status)

/** A documented answer whose body is a JSON-RPC error with a null id (see jsonRpcError). */
const jsonRpcErrorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' as const } } } })

/**
 * The rules of every JSON body (see acceptBody), answered in JSON-RPC's shape as the SDK answers
 * invalid JSON: a duplicate key, invalid UTF-8 or nesting too deep is a -32700 parse error
 * naming where (HTTP 400), a body too large a 413. Errors after the body was accepted are not
 * this middleware's.
 */
function acceptJsonRpcBody(): MiddlewareHandler<AppEnv> {
  const accept = acceptBody(MCP_BODY)
  return async (c, next) => {
    let accepted = false
    try {
      return await accept(c, () => {
        accepted = true
        return next()
      })
    } catch (error) {
      if (accepted) throw error
      if (error instanceof PayloadTooLargeError) return jsonRpcError(c, 413, -32000, error.message)
      if (error instanceof ValidationError) {
        return jsonRpcError(c, 400, ErrorCode.ParseError, `Parse error: ${error.details.map((d) => `${d.path}: ${d.message}`).join('; ')}`)
      }
      throw error
    }
  }
}

/** The params each request method this server answers must have (the MCP schema, as the SDK's types give it). */
const REQUEST_SCHEMAS: Record<string, z.ZodType> = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
}

/**
 * A request whose params do not fit its method's schema (a numeric tool name, no params) is
 * answered -32602 Invalid params naming each bad field (JSON-RPC 2.0 section 5.1); the SDK
 * would answer it -32603 Internal error with zod's issue list as JSON. A tools/call whose only
 * fault is its `arguments` (null, an array) goes on without them: the tool answers it as a
 * failed call (isError), as api.md has every tool failure answered (createMcpServer's
 * sentCall still holds what was sent). Other messages go on as they came.
 */
function refuseInvalidParams(transport: WebStandardStreamableHTTPServerTransport): void {
  const deliver = transport.onmessage
  transport.onmessage = (message, extra) => {
    if (!isJSONRPCRequest(message) || !Object.hasOwn(REQUEST_SCHEMAS, message.method)) return deliver?.(message, extra)
    const parsed = REQUEST_SCHEMAS[message.method]!.safeParse(message)
    if (parsed.success) return deliver?.(message, extra)
    const onlyArguments = parsed.error.issues.every((i) => i.path.join('.') === 'params.arguments')
    if (message.method === 'tools/call' && onlyArguments) {
      const { arguments: _, ...params } = message.params as Record<string, unknown>
      return deliver?.({ ...message, params }, extra)
    }
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')
    void transport.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidParams, message: `Invalid params: ${problems}` } })
  }
}

/**
 * Browsers send Origin; a page that reached GearBox through DNS rebinding has a foreign one,
 * while its Host header looks local, so only GEARBOX_URL's origin counts here (MCP
 * transports, "Security Warning"). Clients that are not browsers send no Origin.
 */
function rejectForeignOrigin(issuer: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin')
    if (origin !== undefined && origin !== issuer) throw new ForbiddenError(`cross-origin request refused: only ${issuer} may call /mcp from a browser`)
    return next()
  }
}

/**
 * `Authorization: Bearer` with an OAuth access token for this resource or an API key; anything
 * else is a 401 whose WWW-Authenticate names the protected-resource metadata (RFC 9728 section
 * 5.1, RFC 6750 section 3), which is how MCP clients find the authorization server.
 */
function requireBearer(services: Services): MiddlewareHandler<AppEnv> {
  const metadataUrl = `${services.oauth.issuer}/.well-known/oauth-protected-resource/mcp`
  return async (c, next) => {
    const bearer = bearerToken(c.req.header('authorization'))
    const who = bearer && ((await services.auth.authenticateApiKey(bearer)) ?? (await services.oauth.authenticateAccessToken(bearer)))
    if (!who) {
      // RFC 6750 section 3.1: a request with no token gets no error code; a bad or malformed one, invalid_token.
      const challenge = `Bearer resource_metadata="${metadataUrl}"${bearer !== undefined ? ', error="invalid_token"' : ''}`
      c.header('WWW-Authenticate', challenge)
      return c.json(errorBody('unauthorized', bearer !== undefined ? 'invalid or expired access token' : 'an access token or API key is required'), 401)
    }
    return next()
  }
}

type Message = { method?: unknown; id?: unknown; params?: { arguments?: unknown } } | null

/**
 * The messages of a JSON-RPC body (one, or a batch), as JSON.parse gives them, and per message
 * (by its index) the first key its arguments hold twice; none for text that is not JSON (the
 * SDK answers that).
 */
function messagesOf(text: string): { messages: Message[]; batch: boolean; duplicateKeys: Map<number, FieldProblem> } {
  const duplicateKeys = new Map<number, FieldProblem>()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { messages: [], batch: false, duplicateKeys }
  }
  const batch = Array.isArray(parsed)
  for (const key of duplicateKeysAt(text, argumentsPath).reverse()) {
    const [index, rest] = batch ? [Number(key[0]), key.slice(3)] : [0, key.slice(2)]
    duplicateKeys.set(index, { path: rest.join('.'), message: 'duplicate key' })
  }
  return { messages: [parsed].flat() as Message[], batch, duplicateKeys }
}

/** The last MCP version with JSON-RPC batching (versions are dates, so later ones sort after it). */
const BATCHING_LAST_VERSION = '2025-03-26'

const requestId = (m: Message) => (typeof m?.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : undefined)

/**
 * What the SDK lets through but JSON-RPC 2.0 (section 6) or the MCP version in use refuses, as
 * a -32600 message: an empty batch; two requests of one batch with the same id, whose answers
 * could not be told apart (and whose tools ran with one request's arguments); any batch under
 * `MCP-Protocol-Version` 2025-06-18 or later, which removed JSON-RPC batching (its changelog;
 * only 2025-03-26 has it, the version of a request without the header). Undefined when there is none.
 */
function batchProblem({ messages, batch }: ReturnType<typeof messagesOf>, protocolVersion: string | undefined): string | undefined {
  if (batch && messages.length === 0) return 'Invalid Request: an empty batch'
  if (batch && protocolVersion !== undefined && protocolVersion > BATCHING_LAST_VERSION) {
    return `Invalid Request: MCP ${protocolVersion} has no JSON-RPC batches (MCP-Protocol-Version); send one message per request`
  }
  const ids = new Set<RequestId>()
  for (const id of messages.map(requestId)) {
    if (id === undefined) continue
    if (ids.has(id)) return `Invalid Request: the id ${JSON.stringify(id)} is given to more than one request of the batch`
    ids.add(id)
  }
  return undefined
}

/**
 * Each tools/call as sent, by request id (unique: see batchProblem): its arguments as JSON.parse
 * gives them (with any own `__proto__` key, which the SDK's parse would drop) and a key they
 * hold twice. Messages of another shape are left to the SDK to answer.
 */
function callsAsSent({ messages, duplicateKeys }: ReturnType<typeof messagesOf>): (id: RequestId) => SentCall | undefined {
  const sent = new Map<RequestId, SentCall>()
  messages.forEach((m, index) => {
    const id = requestId(m)
    if (m?.method === 'tools/call' && id !== undefined) sent.set(id, { arguments: m.params?.arguments, duplicateKey: duplicateKeys.get(index) })
  })
  return (id) => sent.get(id)
}

/**
 * The MCP endpoint (Streamable HTTP, stateless): every POST gets a fresh server and transport,
 * so no session state lives in the process. Without sessions there is no server-initiated
 * stream to GET and nothing to DELETE (405, as the transport spec allows).
 */
export function mcpRoutes(services: Services) {
  const router = createRouter(null)
  // What every method may be answered before the request reaches the MCP server.
  const refusals = {
    401: {
      ...errorResponse('No valid token'),
      headers: {
        'WWW-Authenticate': {
          description:
            'Bearer resource_metadata="<GEARBOX_URL>/.well-known/oauth-protected-resource/mcp" (RFC 9728), with error="invalid_token" for a bad token',
          required: true,
          schema: { type: 'string' as const },
        },
      },
    },
    403: errorResponse('A foreign Origin'),
    503: unavailableResponse(),
  }
  const tooLarge = { 413: jsonRpcErrorResponse('A body over 1 MiB: a JSON-RPC -32000 error') }
  router.openAPIRegistry.registerPath({
    method: 'post',
    path: '/',
    tags: ['mcp'],
    summary: 'Model Context Protocol (Streamable HTTP, stateless): JSON-RPC 2.0 messages, answered as JSON',
    description:
      'Tools: list_categories, create_category, list_items, get_item, create_item, update_item, delete_item, list_setups, get_setup, ' +
      'create_setup, set_setup_items, list_threads, get_thread, create_thread, add_candidate, resolve_thread, get_settings (see tools/list ' +
      'for their input schemas: the HTTP bodies). Needs `Authorization: Bearer` with an OAuth access token (tag oauth) or an API key; ' +
      'otherwise 401 with `WWW-Authenticate: Bearer resource_metadata=...`. A foreign Origin is a 403. ' +
      'The server is stateless: GET (an event stream) and DELETE (a session) are not offered, and every method but POST is a 405.',
    security: [{ apiKey: [] }],
    request: {
      body: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'A JSON-RPC 2.0 request, notification or batch' } } } },
    },
    responses: {
      200: { description: 'The JSON-RPC response', content: { 'application/json': { schema: { type: 'object' } } } },
      202: { description: 'Accepted (notifications and responses)' },
      400: {
        description:
          'A body that is not one JSON-RPC message or batch (a duplicate key, invalid UTF-8, not JSON): a JSON-RPC -32700 parse error. ' +
          'An empty batch, a batch whose requests share an id, or a batch under MCP-Protocol-Version 2025-06-18 or later: -32600',
        content: { 'application/json': { schema: { type: 'object' } } },
      },
      ...refusals,
      406: jsonRpcErrorResponse('Accept does not list both application/json and text/event-stream: a JSON-RPC -32000 error'),
      ...tooLarge,
      415: jsonRpcErrorResponse('Content-Type is not application/json: a JSON-RPC -32000 error'),
    },
  })
  // The other methods exist only to say so (MCP Streamable HTTP: no stream to GET, no session to DELETE).
  for (const method of ['get', 'put', 'patch', 'delete'] as const) {
    router.openAPIRegistry.registerPath({
      method,
      path: '/',
      tags: ['mcp'],
      summary: 'Not offered: this MCP server is stateless, so only POST is answered (405, Allow: POST)',
      security: [{ apiKey: [] }],
      responses: {
        ...refusals,
        // A body is checked before the method: a GET has none the server reads.
        ...(method === 'get' ? {} : tooLarge),
        405: {
          ...errorResponse('Method not allowed: send JSON-RPC with POST'),
          headers: { Allow: { description: 'The one method offered', required: true, schema: { type: 'string', enum: ['POST'] } } },
        },
      },
    })
  }
  return router
    .use(acceptJsonRpcBody())
    .use(rejectForeignOrigin(services.oauth.issuer))
    .use(requireBearer(services))
    .post('/', async (c) => {
      // The JSON body as strictJsonBody checked and cached it (none for another type: the SDK refuses those).
      const checked = (c.req.bodyCache as { text?: Promise<string> }).text
      const body = messagesOf(checked ? await checked : '')
      const problem = batchProblem(body, c.req.header('mcp-protocol-version'))
      if (problem) return jsonRpcError(c, 400, ErrorCode.InvalidRequest, problem)
      const server = createMcpServer(services, callsAsSent(body))
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        maxRequestBodySize: MAX_MCP_BODY_BYTES,
      })
      await server.connect(transport)
      refuseInvalidParams(transport)
      try {
        // Through c.newResponse, so the headers set before (the request id) are on it too.
        const response = await transport.handleRequest(c.req.raw)
        return c.newResponse(response.body, response)
      } finally {
        await server.close()
      }
    })
    .all('/', (c) => {
      c.header('Allow', 'POST')
      return c.json(errorBody('validation_failed', 'this MCP server is stateless: send JSON-RPC with POST'), 405)
    })
}
