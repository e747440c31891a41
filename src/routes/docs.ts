import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './router'

type OpenAPIDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>

/** Every operation needs a session cookie or an API key unless its route says `security: []`. */
const DEFAULT_SECURITY: Record<string, string[]>[] = [{ session: [] }, { apiKey: [] }]

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

/**
 * `GET /api/items/{id}` -> `getItemsById`: stable, URL-safe, and as unique as method and path
 * (the lint test checks). Routes may set their own `operationId`; this names the rest.
 */
function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'api')
    .flatMap((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment)?.[1]
      return param ? ['by', param] : segment.split(/[^A-Za-z0-9]+/)
    })
  return [method, ...words].map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1))).join('')
}

/** Gives every operation of the document an operationId; the document is changed in place. */
function nameOperations(document: OpenAPIDocument): OpenAPIDocument {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method]
      if (operation) operation.operationId ??= operationIdFor(method, path)
    }
  }
  return document
}

// Swagger UI comes from the installed swagger-ui-dist package, so /docs works offline.
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: 'swagger-ui-dist/swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-dist/swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GearBox API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

// No validator badge: it would send the document to an outside service.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true })\n`

/**
 * Serves the OpenAPI 3.1 document at `/openapi.json` (with servers, default security and an
 * operationId for every operation) and a reference page for people at `/docs`.
 */
export function serveApiDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', { type: 'apiKey', in: 'cookie', name: 'gearbox_session' })
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer' })
  app.get('/openapi.json', (c) =>
    c.json(
      nameOperations(
        app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: {
            title: 'GearBox API',
            version: '1.0.0',
            description:
              'Self-hosted gear inventory. AI clients use the Model Context Protocol (Streamable HTTP, stateless, JSON-RPC) at `POST /mcp` with ' +
              '`Authorization: Bearer <OAuth access token or API key>`; without one it answers 401 with `WWW-Authenticate: Bearer resource_metadata=...`. ' +
              'The OAuth endpoints below (tag oauth) issue those tokens; the tools are listed by the MCP method tools/list.',
          },
          // The server that served this document; a relative URL works behind any proxy.
          servers: [{ url: '/', description: 'This server' }],
          security: DEFAULT_SECURITY,
        }),
      ),
    ),
  )
  app.get('/docs', (c) => c.html(PAGE))
  app.get('/docs/init.js', (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  // One literal route per asset: a regular expression in a path would cost every request its
  // router (Hono's RegExpRouter refuses alternatives and falls back to the slower TrieRouter).
  for (const [name, asset] of Object.entries(ASSETS)) {
    app.get(`/docs/${name}`, (c) => {
      const file = Bun.file(Bun.resolveSync(asset.file, import.meta.dir))
      return c.body(file.stream(), 200, { 'content-type': asset.type, 'content-length': String(file.size), 'cache-control': 'public, max-age=86400' })
    })
  }
}
