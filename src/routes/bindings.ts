import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'

/**
 * The node:http request behind `c`: src/http-server.ts hands it to the app as Hono's `c.env`
 * (`{ incoming, outgoing }`). Undefined for a Request given to `app.request()` without
 * bindings (tests); a test may pass a partial one (`{ incoming: { socket: { remoteAddress } } }`).
 */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
}
