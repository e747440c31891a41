import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { getRequestListener } from '@hono/node-server'
import { errorBody } from './routes/error-handler'

export interface HttpServer {
  /** The port it listens on (the one chosen when 0 was asked for). */
  port: number
  /**
   * Stops accepting connections; resolves once the open ones are closed and every request's
   * handler has finished (also those whose client hung up). Idle keep-alive connections close
   * at once; with `force`, so do those with a request in flight, and handlers are not awaited.
   */
  stop(force?: boolean): Promise<void>
}

/** The most header bytes one request may carry (node:http's default). */
export const MAX_HEADER_BYTES = 16 * 1024
/** The largest body the server takes on any route; routes set smaller limits of their own. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024
/** How long a client has to send a request's body once its headers are in (node:http's requestTimeout default). */
export const REQUEST_TIMEOUT_MS = 300_000

/** An answer given here rather than by the app (which logs and counts its own): method and path when the request could be read. */
export interface EarlyAnswer {
  method?: string
  path?: string
  status: number
}

/**
 * Serves `fetch` (Hono's `app.fetch`) over HTTP/1.1 on node:http, which Bun implements,
 * rather than Bun.serve: Bun.serve answers oversized headers and malformed requests itself
 * with empty bodies, where node:http's `clientError` lets every answer take the contract's
 * JSON shape. The handler's second argument is `{ incoming, outgoing }` (the socket address is
 * `incoming.socket.remoteAddress`). A request without a Host header (HTTP/1.0 allows that)
 * is read as addressed to `localhost`, so its path is routed as sent. Pipelined requests on
 * one connection are handled one at a time, in the order they came (RFC 9112 section 9.3.2).
 *
 * The first call replaces the global Request and Response with the adapter's lightweight
 * ones (@hono/node-server's default): a response built from a string is then written with
 * one `writeHead` and `end`, not read back through a ReadableStream. Bun's native APIs that
 * take a Response (Bun.serve, HTMLRewriter) refuse those; GearBox uses neither.
 * `onEarlyAnswer` hears every answer given before (or instead of) the app's: a refusal, a 408,
 * a request that could not be parsed, so the request log and metrics count those too.
 */
export function listen(
  fetch: (request: Request, env: { incoming: IncomingMessage }) => Response | Promise<Response>,
  port: number,
  hostname?: string,
  { requestTimeoutMs = REQUEST_TIMEOUT_MS, onEarlyAnswer = () => {} }: { requestTimeoutMs?: number; onEarlyAnswer?: (answer: EarlyAnswer) => void } = {},
): Promise<HttpServer> {
  const listener = getRequestListener(fetch as Parameters<typeof getRequestListener>[0], {
    hostname: 'localhost',
    // Reached only for a request the adapter cannot turn into a Request (a bad Host header).
    errorHandler: () => Response.json(errorBody('validation_failed', 'malformed HTTP request'), { status: 400 }),
  })
  // Requests whose handler has not finished: a client that hangs up leaves its handler running,
  // and node:http counts only connections, so stop() waits for these as well.
  let inFlight = 0
  let drained = Promise.withResolvers<void>()
  drained.resolve()
  const forced = Promise.withResolvers<void>()
  let stopping = false
  // Per connection, the last request's handler: Bun's node:http hands over pipelined requests
  // as they arrive, and each waits here for the one before it (RFC 9112 section 9.3.2).
  const handling = new WeakMap<Duplex, Promise<unknown>>()
  // node:http's own answer to a missing Host is an empty 400: refuse() answers it instead.
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false }, (incoming, outgoing) => {
    const refusal = refuse(incoming)
    if (refusal) {
      answerAndClose(outgoing, ...refusal)
      onEarlyAnswer({ method: incoming.method, path: pathOf(incoming), status: refusal[0] })
      return
    }
    if (inFlight++ === 0) drained = Promise.withResolvers<void>()
    const socket = incoming.socket
    const before = handling.get(socket)
    // The body's time starts with the request's turn: no one reads a waiting request's body.
    const handle = () => {
      answerIncompleteBody(incoming, outgoing, requestTimeoutMs, () => onEarlyAnswer({ method: incoming.method, path: pathOf(incoming), status: 408 }))
      return listener(incoming, outgoing)
    }
    const handled: Promise<unknown> = (before ? before.then(handle, handle) : Promise.resolve(handle())).finally(() => {
      if (handling.get(socket) === handled) handling.delete(socket)
      if (--inFlight === 0) drained.resolve()
      // Once stopping, a keep-alive connection closes as soon as its response is out, rather
      // than after the keep-alive timeout (Bun's node:http keeps it open until then).
      if (stopping) setImmediate(() => server.closeIdleConnections())
    })
    handling.set(socket, handled)
  })
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    const status = answerClientError(error, socket)
    if (status) onEarlyAnswer({ status })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, hostname, () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        async stop(force = false) {
          stopping = true
          const closed = new Promise<void>((done) => server.close(() => done()))
          if (force) {
            server.closeAllConnections()
            forced.resolve()
          } else server.closeIdleConnections()
          await closed
          await Promise.race([drained.promise, forced.promise])
        },
      })
    })
  })
}

/** A request refused before the app sees it: an HTTP/1.1 one without Host (RFC 9112 section 3.2), a body over MAX_BODY_BYTES. */
function refuse(incoming: IncomingMessage): [number, ReturnType<typeof errorBody>] | undefined {
  if (incoming.httpVersion !== '1.0' && incoming.headers.host === undefined) {
    return [400, errorBody('validation_failed', 'an HTTP/1.1 request needs a Host header')]
  }
  if (Number(incoming.headers['content-length']) > MAX_BODY_BYTES) {
    return [413, errorBody('payload_too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`)]
  }
  return undefined
}

/**
 * Bun's node:http does not enforce `requestTimeout`: a body that stops arriving held its
 * handler and connection for good. Once `timeoutMs` has passed with the body still
 * incomplete, the client gets a JSON 408 (RFC 9110 section 15.5.9), the connection closes and
 * a handler still reading the body gets an error.
 * A request with neither Content-Length nor Transfer-Encoding has no body to wait for.
 */
function answerIncompleteBody(incoming: IncomingMessage, outgoing: ServerResponse, timeoutMs: number, answered: () => void): void {
  if (incoming.headers['content-length'] === undefined && incoming.headers['transfer-encoding'] === undefined) return
  const timer = setTimeout(() => {
    if (incoming.complete) return
    const message = `the request body did not arrive within ${timeoutMs / 1000} s`
    // Written on the socket, not through `outgoing`: the handler's own answer, once it has
    // finished, then goes nowhere, as after a hang-up (through `outgoing` it would be a second
    // writeHead, which the adapter logs as ERR_HTTP_HEADERS_SENT).
    if (!outgoing.headersSent) {
      writeAndClose(incoming.socket, '408 Request Timeout', errorBody('validation_failed', message))
      answered()
    }
    // Ends the body stream too, so a handler still reading it fails and finishes.
    incoming.destroy(new Error(message))
  }, timeoutMs)
  outgoing.once('close', () => clearTimeout(timer))
}

/** Answers `body` as JSON with `status` and `Connection: close`; `then` runs once it is written. */
function answerAndClose(outgoing: ServerResponse, status: number, body: ReturnType<typeof errorBody>, then?: () => void): void {
  outgoing.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify(body), then)
}

/**
 * A request node:http could not parse (RFC 9112 section 2.2; RFC 6585 section 5 for 431):
 * answered in JSON, then closed. Returns the status answered; none for a connection that was
 * only closed (already gone, or an error that is not the request's).
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): number | undefined {
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  if (!socket.writable || !(tooLarge || error.code?.startsWith('HPE_'))) {
    socket.destroy()
    return undefined
  }
  const body = tooLarge
    ? errorBody('payload_too_large', `request headers are larger than ${MAX_HEADER_BYTES} bytes`)
    : errorBody('validation_failed', 'malformed HTTP request')
  writeAndClose(socket, tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request', body)
  return tooLarge ? 431 : 400
}

/** The request's path without its query string, as the request log has it. */
const pathOf = (incoming: IncomingMessage) => (incoming.url ?? '').split('?')[0]

/** Writes a whole JSON answer with `Connection: close` straight on the socket (`status`: code and reason), then ends it. */
function writeAndClose(socket: Duplex, status: string, body: ReturnType<typeof errorBody>): void {
  const text = JSON.stringify(body)
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`)
}
