import type { Context, TypedResponse } from 'hono'
import type { JSONParsed } from 'hono/utils/types'
import type { Page, PageRequest } from '../repositories/paging'
import { parameterName, queryParts } from './middleware/query'
import type { AppEnv } from './router'

/** Rows per query while a whole list is read: small enough that other requests interleave. */
export const STREAM_CHUNK = 500

/**
 * Answers a list endpoint (api.md's Conventions). With `limit`: that page as a JSON array and,
 * while more remain, `Link: <url>; rel="next"` (RFC 8288), the same URL with the next cursor.
 * Without: the whole list as one JSON array, read in keyset chunks of STREAM_CHUNK rows. A
 * list longer than one chunk is read again from the start inside `snapshot` (Services.snapshot),
 * so it is one moment's list (a row renamed meanwhile appears once, in one place), and read
 * whole before the answer starts, so a database that fails or times out is still the usual
 * error response (503), never a 200 cut short. Meanwhile it is held as JSON bytes, not rows.
 */
export async function listReply<T extends object>(
  c: Context<AppEnv>,
  query: { limit?: number; cursor?: string },
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
  snapshot: <R>(work: () => Promise<R>) => Promise<R>,
): Promise<JsonList<T>> {
  if (query.limit !== undefined) {
    const page = await fetchPage({ limit: query.limit, cursor: query.cursor })
    if (page.nextCursor) c.header('Link', `<${nextUrl(c, page.nextCursor)}>; rel="next"`)
    return c.json(page.entries, 200)
  }
  const first = await fetchPage({ limit: STREAM_CHUNK, cursor: query.cursor })
  // A list that fits in one chunk is one statement's, consistent by itself.
  if (first.nextCursor === undefined) return c.json(first.entries, 200)
  const encoder = new TextEncoder()
  const parts = await snapshot(async () => {
    const parts = [encoder.encode('[')]
    let cursor = query.cursor
    do {
      const page = await fetchPage({ limit: STREAM_CHUNK, cursor })
      // The array's JSON without its brackets, a comma before every chunk but the first.
      if (page.entries.length > 0) parts.push(encoder.encode((parts.length > 1 ? ',' : '') + JSON.stringify(page.entries).slice(1, -1)))
      cursor = page.nextCursor
      // Each chunk leaves a few MB of garbage (rows, JSON text) that JavaScriptCore would let
      // pile up to hundreds of MB over a long list; ask it to collect as we go. The turn of the
      // event loop lets requests that arrived meanwhile be read (embedded PGlite runs each
      // query on this thread).
      Bun.gc(false)
      await new Promise((resolve) => setImmediate(resolve))
      // A client that hung up gets nothing: stop reading for it.
    } while (cursor !== undefined && !c.req.raw.signal.aborted)
    parts.push(encoder.encode(']'))
    return parts
  })
  // The same JSON c.json would send, each part let go once it is sent.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const part = parts.shift()
      if (part) controller.enqueue(part)
      else controller.close()
    },
  })
  return c.body(body, 200, { 'content-type': 'application/json' }) as unknown as JsonList<T>
}

type JsonList<T> = Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>

/**
 * The request's own path and query with `cursor` set: a relative reference, right behind any
 * proxy. Every other parameter is the client's own text: decoded and encoded again, one could
 * come back in another spelling the server reads differently (`a+b` and `a%2Bb` are two
 * searches), and the next page would be another search.
 */
function nextUrl(c: Context<AppEnv>, cursor: string): string {
  const url = new URL(c.req.url)
  const next = `cursor=${encodeURIComponent(cursor)}`
  const parts = queryParts(url)
  // Only one can be there (two are a 400).
  const at = parts.findIndex((part) => parameterName(part) === 'cursor')
  if (at === -1) parts.push(next)
  else parts[at] = next
  return `${url.pathname}?${parts.join('&')}`
}
