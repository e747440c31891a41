import { z } from '@hono/zod-openapi'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { CallToolRequestSchema, type CallToolResult, ErrorCode, ListToolsRequestSchema, McpError, type RequestId } from '@modelcontextprotocol/sdk/types.js'
import { type FieldProblem, ValidationError } from '../errors'
import { CreateCategoryBody } from '../schemas/category'
import { CreateItemBody, ItemListQuery, UpdateItemBody } from '../schemas/item'
import { CreateSetupBody, ReplaceSetupItemsBody } from '../schemas/setup'
import { CreateCandidateBody, CreateThreadBody, dbId, ResolveThreadBody, ThreadListQuery } from '../schemas/thread'
import type { Services } from '../services'
import { describeUnexpected, domainErrorReply, errorBody } from './error-handler'
import { findTextProblem } from './middleware/json-body'
import { validationErrorFrom } from './router'

const NoInput = z.object({}).strict()

interface Tool<S extends z.ZodObject = z.ZodObject> {
  description: string
  /** Id arguments (the HTTP route's path parameters), each a positive integer. */
  ids?: readonly string[]
  /** The HTTP route's body or query schema: the arguments besides the ids. */
  input?: S
  readOnly?: boolean
  /**
   * MCP tool annotations: a tool that is not read-only overwrites or removes data unless it only
   * adds (a create), so destructiveHint is true unless `additive`; `idempotent` when calling it
   * again with the same arguments changes nothing more (idempotentHint): the same values again
   * (only an updatedAt moves), or a refusal (a deleted item, a resolved thread). See the MCP
   * specification, "Tools", ToolAnnotations.
   */
  additive?: boolean
  idempotent?: boolean
  run(services: Services, args: z.output<S>, ids: Record<string, number>): Promise<unknown>
}

// Infers each tool's argument type from its schema, then forgets it for the table.
const tool = <S extends z.ZodObject = typeof NoInput>(t: Tool<S>) => t as unknown as Tool

/** The tools of shared/api.md: each calls the service of its HTTP twin with the twin's schema. */
export const TOOLS: Record<string, Tool> = {
  list_categories: tool({ description: 'Categories with item count and totals, by name', readOnly: true, run: (s) => s.categories.list() }),
  create_category: tool({ description: 'Create a category', input: CreateCategoryBody, additive: true, run: (s, body) => s.categories.create(body) }),
  list_items: tool({
    description: 'Items with their category name, by name; filter by categoryId, search name and notes with q',
    input: z.object({ categoryId: dbId.optional(), q: ItemListQuery.shape.q }).strict(),
    readOnly: true,
    run: (s, filter) => s.items.list(filter),
  }),
  get_item: tool({ description: 'One item', ids: ['id'], readOnly: true, run: (s, _, { id }) => s.items.get(id!) }),
  create_item: tool({
    description: 'Create an item (weights in grams, prices in integer cents)',
    input: CreateItemBody,
    additive: true,
    run: (s, body) => s.items.create(body),
  }),
  update_item: tool({
    description: 'Change some fields of an item',
    ids: ['id'],
    input: UpdateItemBody,
    idempotent: true,
    run: (s, patch, { id }) => s.items.update(id!, patch),
  }),
  delete_item: tool({ description: 'Delete an item; it leaves every setup too', ids: ['id'], idempotent: true, run: (s, _, { id }) => s.items.delete(id!) }),
  list_setups: tool({ description: 'Setups (loadouts) with item count and totals, by name', readOnly: true, run: (s) => s.setups.list() }),
  get_setup: tool({
    description: 'One setup with its items, totals by classification and totals by category',
    ids: ['id'],
    readOnly: true,
    run: (s, _, { id }) => s.setups.get(id!),
  }),
  create_setup: tool({ description: 'Create an empty setup', input: CreateSetupBody, additive: true, run: (s, body) => s.setups.create(body) }),
  set_setup_items: tool({
    description: "Replace a setup's whole item list; each entry is {itemId, classification: base | worn | consumable}",
    ids: ['id'],
    input: ReplaceSetupItemsBody,
    idempotent: true,
    run: (s, body, { id }) => s.setups.replaceItems(id!, body.items),
  }),
  list_threads: tool({
    description: 'Purchase research threads, newest first; filter by status',
    // Only the filter: the query's limit and cursor would be ignored here (the tools return whole lists).
    input: z.object({ status: ThreadListQuery.shape.status }).strict(),
    readOnly: true,
    run: (s, filter) => s.threads.list(filter),
  }),
  get_thread: tool({ description: 'One thread with its candidates', ids: ['id'], readOnly: true, run: (s, _, { id }) => s.threads.get(id!) }),
  create_thread: tool({ description: 'Start a purchase research thread', input: CreateThreadBody, additive: true, run: (s, body) => s.threads.create(body) }),
  add_candidate: tool({
    description: 'Add a candidate product to a thread',
    ids: ['threadId'],
    input: CreateCandidateBody,
    additive: true,
    run: (s, body, { threadId }) => s.threads.addCandidate(threadId!, body),
  }),
  resolve_thread: tool({
    description: 'Buy a candidate: creates an item from it and resolves the thread',
    ids: ['id'],
    input: ResolveThreadBody,
    // A second call is refused (already resolved): no second item.
    idempotent: true,
    run: (s, body, { id }) => s.threads.resolve(id!, body.candidateId),
  }),
  get_settings: tool({ description: 'Every stored setting as key -> value', readOnly: true, run: (s) => s.settings.all() }),
}

/** The tool's arguments as one object schema, for clients (the ids first, then the HTTP schema's fields). */
const argumentsSchema = (t: Tool) => z.object({ ...Object.fromEntries((t.ids ?? []).map((name) => [name, dbId])), ...(t.input ?? NoInput).shape }).strict()

/** Checks ids and body as the HTTP route does; throws the route's ValidationError (`invalid body`, a path per field). */
function parseArguments(t: Tool, args: Record<string, unknown>) {
  // The text rules every JSON body meets over HTTP (the MCP route leaves them to the tools).
  const text = findTextProblem(args)
  if (text) throw new ValidationError('invalid body', [text])
  const problems: FieldProblem[] = []
  const ids: Record<string, number> = {}
  const rest = { ...args }
  for (const name of t.ids ?? []) {
    const id = dbId.safeParse(rest[name])
    delete rest[name]
    if (id.success) ids[name] = id.data
    else problems.push(...id.error.issues.map((i) => ({ path: name, message: i.message })))
  }
  const body = (t.input ?? NoInput).safeParse(rest)
  if (!body.success) problems.push(...validationErrorFrom(body.error, 'json').details)
  if (!body.success || problems.length > 0) throw new ValidationError('invalid body', problems)
  return { body: body.data, ids }
}

/** A tool's answer: the HTTP API's JSON as structuredContent (a list as {items}) and as text. */
function toolResult(value: unknown): CallToolResult {
  if (value === undefined) return { content: [{ type: 'text', text: 'done' }] }
  const json = JSON.parse(JSON.stringify(value))
  const structuredContent = Array.isArray(json) ? { items: json } : json
  return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent }
}

/** A failure as a tool result (never a protocol error), with the API's error body and message. */
function toolError(error: unknown): CallToolResult {
  const reply = error instanceof Error ? domainErrorReply(error) : undefined
  // Named and located, never the error object: a driver's error carries the statement's parameters (the tool's arguments).
  if (!reply) console.error(`MCP tool failed: ${error instanceof Error ? describeUnexpected(error) : String(error)}`)
  const body = reply?.body ?? errorBody('internal', 'internal error')
  const details = body.error.details?.map((d) => `${d.path}: ${d.message}`).join('; ')
  return { isError: true, content: [{ type: 'text', text: details ? `${body.error.message} (${details})` : body.error.message }], structuredContent: body }
}

/** A tools/call as the client sent it: its arguments as JSON.parse gives them, and the first key given twice in them (named by its path in them). */
export interface SentCall {
  arguments: unknown
  duplicateKey?: FieldProblem
}

/**
 * An MCP server with GearBox's tools. Stateless: one is built per HTTP request. `sentCall`
 * gives a tools/call as the client sent it (by JSON-RPC id): the SDK's parse drops an own
 * `__proto__` key, which the tool must refuse as an unknown field as HTTP does, and keeps the
 * last of a key given twice, which the tool refuses as HTTP refuses the body.
 */
export function createMcpServer(services: Services, sentCall: (id: RequestId) => SentCall | undefined = () => undefined): Server {
  const server = new Server(
    { name: 'gearbox', version: '1.0.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'GearBox keeps an outdoor gear inventory: items (weights in grams, prices in integer cents) in categories, setups (loadouts) and purchase research threads.',
    },
  )
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.entries(TOOLS).map(([name, t]) => ({
      name,
      description: t.description,
      inputSchema: z.toJSONSchema(argumentsSchema(t), { io: 'input' }) as { type: 'object' },
      annotations: t.readOnly ? { readOnlyHint: true } : { readOnlyHint: false, destructiveHint: !t.additive, idempotentHint: t.idempotent ?? false },
    })),
  }))
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const t = Object.hasOwn(TOOLS, request.params.name) ? TOOLS[request.params.name] : undefined
    if (!t) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${request.params.name}`)
    try {
      const call = sentCall(extra.requestId)
      if (call?.duplicateKey) throw new ValidationError('invalid body', [call.duplicateKey])
      const sent = call?.arguments
      const isObject = typeof sent === 'object' && sent !== null && !Array.isArray(sent)
      // Arguments that are not an object (null, an array) reach here without them (mcp.ts refuseInvalidParams).
      if (sent !== undefined && !isObject) throw new ValidationError('invalid arguments', [{ path: 'arguments', message: 'must be an object' }])
      const args = isObject ? (sent as Record<string, unknown>) : request.params.arguments
      const { body, ids } = parseArguments(t, args ?? {})
      return toolResult(await t.run(services, body, ids))
    } catch (error) {
      return toolError(error)
    }
  })
  return server
}
