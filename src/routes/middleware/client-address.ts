import type { Context } from 'hono'
import { incomingOf } from '../bindings'

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
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; one client, one spelling.
  return (incomingOf(c)?.socket?.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '').slice(0, MAX_ADDRESS_LENGTH)
}
