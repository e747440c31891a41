import type { Context, TypedResponse } from 'hono'
import type { JSONParsed } from 'hono/utils/types'
import type { Page, PageRequest } from '../repositories/paging'
import type { AppEnv } from './router'

/** Rows per query while a whole list is streamed: small enough that other requests interleave. */
export const STREAM_CHUNK = 500

/**
 * Answers a list endpoint (api.md's Conventions). With `limit`: that page as a JSON array and,
 * while more remain, `Link: <url>; rel="next"` (RFC 8288), the same URL with the next cursor.
 * Without: the whole list, read in keyset chunks and streamed as one JSON array, each chunk
 * fetched only when the client has taken the one before, so memory stays bounded however long
 * the list and no single query holds the database for long. Errors before the first byte get
 * the usual error response; a failure after that can only cut the response short.
 */
export async function listReply<T extends object>(
  c: Context<AppEnv>,
  query: { limit?: number; cursor?: string },
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
): Promise<JsonList<T>> {
  if (query.limit !== undefined) {
    const page = await fetchPage({ limit: query.limit, cursor: query.cursor })
    if (page.nextCursor) c.header('Link', `<${nextUrl(c, page.nextCursor)}>; rel="next"`)
    return c.json(page.entries, 200)
  }
  const first = await fetchPage({ limit: STREAM_CHUNK, cursor: query.cursor })
  // A list that fits in one chunk goes out whole: a stream costs more than it saves there.
  if (first.nextCursor === undefined) return c.json(first.entries, 200)
  let next: string | undefined = first.nextCursor
  const encoder = new TextEncoder()
  // One string per chunk: the array's JSON without its brackets.
  const json = (entries: T[]) => JSON.stringify(entries).slice(1, -1)
  let separator = first.entries.length > 0 ? ',' : ''
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`[${json(first.entries)}`))
    },
    async pull(controller) {
      if (next === undefined) {
        controller.enqueue(encoder.encode(']'))
        controller.close()
        return
      }
      // Embedded PGlite runs each query on this thread: without a turn of the event loop
      // between chunks, requests that arrived meanwhile would not even be read until the end.
      await new Promise((resolve) => setImmediate(resolve))
      // Each chunk leaves a few MB of garbage (rows, JSON text, bytes) that JavaScriptCore
      // would let pile up to hundreds of MB over a long list; ask it to collect as we go.
      Bun.gc(false)
      const page = await fetchPage({ limit: STREAM_CHUNK, cursor: next })
      next = page.nextCursor
      if (page.entries.length > 0) {
        controller.enqueue(encoder.encode(separator + json(page.entries)))
        separator = ','
      }
    },
  })
  // The same JSON c.json would send, only streamed.
  return c.body(body, 200, { 'content-type': 'application/json' }) as unknown as JsonList<T>
}

type JsonList<T> = Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>

/** The request's own path and query with `cursor` set: a relative reference, right behind any proxy. */
function nextUrl(c: Context<AppEnv>, cursor: string): string {
  const url = new URL(c.req.url)
  url.searchParams.set('cursor', cursor)
  return `${url.pathname}${url.search}`
}
