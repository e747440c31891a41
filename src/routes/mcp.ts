import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { MiddlewareHandler } from 'hono'
import { ForbiddenError } from '../errors'
import type { Services } from '../services'
import { errorBody } from './error-handler'
import { createMcpServer } from './mcp-tools'
import { type AppEnv, createRouter } from './router'

/** JSON-RPC bodies are small; the SDK answers a larger one with 413 before parsing it. */
const MAX_MCP_BODY_BYTES = 1024 * 1024

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
    const [scheme, token] = c.req.header('authorization')?.split(' ', 2) ?? []
    const bearer = scheme?.toLowerCase() === 'bearer' && token ? token : undefined
    const who = bearer && ((await services.auth.authenticateApiKey(bearer)) ?? (await services.oauth.authenticateAccessToken(bearer)))
    if (!who) {
      const challenge = `Bearer resource_metadata="${metadataUrl}"${bearer ? ', error="invalid_token"' : ''}`
      c.header('WWW-Authenticate', challenge)
      return c.json(errorBody('unauthorized', bearer ? 'invalid or expired access token' : 'an access token or API key is required'), 401)
    }
    return next()
  }
}

/**
 * The MCP endpoint (Streamable HTTP, stateless): every POST gets a fresh server and transport,
 * so no session state lives in the process. Without sessions there is no server-initiated
 * stream to GET and nothing to DELETE (405, as the transport spec allows).
 */
export function mcpRoutes(services: Services) {
  return createRouter()
    .use(rejectForeignOrigin(services.oauth.issuer))
    .use(requireBearer(services))
    .post('/', async (c) => {
      const server = createMcpServer(services)
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        maxRequestBodySize: MAX_MCP_BODY_BYTES,
      })
      await server.connect(transport)
      try {
        return await transport.handleRequest(c.req.raw)
      } finally {
        await server.close()
      }
    })
    .on(['GET', 'DELETE'], '/', (c) => {
      c.header('Allow', 'POST')
      return c.json(errorBody('validation_failed', 'this MCP server is stateless: send JSON-RPC with POST'), 405)
    })
}
