import type { Context } from 'hono'

/** What the HTTP server (src/http-server.ts) passes as Hono's `c.env`: only the part read here. */
interface ServerBindings {
  incoming?: { socket?: { remoteAddress?: string } }
}

/** Longest address kept: an IPv6 address with a zone fits; anything longer is not an address. */
const MAX_ADDRESS_LENGTH = 100

/**
 * The client's address, for throttling. Without `trustProxy` it is the socket's peer; with
 * it, the last X-Forwarded-For entry: the one the proxy in front appended, never one the
 * client wrote itself (those come earlier in the list). '' when unknown (a request handed to
 * `app.request()` without bindings).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const appended = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (appended) return appended.slice(0, MAX_ADDRESS_LENGTH)
  }
  const bindings = c.env as ServerBindings | undefined
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; one client, one spelling.
  return (bindings?.incoming?.socket?.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '').slice(0, MAX_ADDRESS_LENGTH)
}
