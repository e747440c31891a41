import type { Context } from 'hono'

/** What Bun.serve passes as the second argument of fetch (Hono's `c.env`): only the part read here. */
interface SocketInfo {
  requestIP?(request: Request): { address: string } | null
}

/** Longest address kept: an IPv6 address with a zone fits; anything longer is not an address. */
const MAX_ADDRESS_LENGTH = 100

/**
 * The client's address, for throttling. Without `trustProxy` it is the socket's peer (Bun's
 * `server.requestIP`); with it, the last X-Forwarded-For entry: the one the proxy in front
 * appended, never one the client wrote itself (those come earlier in the list). '' when
 * unknown (a request handed to `app.request()` without a server).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const appended = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (appended) return appended.slice(0, MAX_ADDRESS_LENGTH)
  }
  const server = c.env as SocketInfo | undefined
  return (server?.requestIP?.(c.req.raw)?.address ?? '').slice(0, MAX_ADDRESS_LENGTH)
}
