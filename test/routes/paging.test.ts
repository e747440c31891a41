import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { UnavailableError } from '../../src/errors'
import { STREAM_CHUNK } from '../../src/routes/lists'
import { MAX_INDEXED_TEXT_BYTES } from '../../src/schemas/common'
import { errorPaths, useTestApp } from '../support/app'
import { serverUrl } from '../support/database'

// api.md's Conventions: every list takes `limit` (1-1000) and `cursor`; with `limit` at most
// that many entries and, while more remain, `Link: <url>; rel="next"`; pages never skip or
// repeat an entry even when rows are added meanwhile; without `limit`, the whole list.
describe('paging of every list', () => {
  const t = useTestApp()

  /** Follows Link: rel="next" from `first` to the end; every page's entries and its Link. */
  async function allPages(first: string, credentials = t.auth, between: (page: number) => Promise<void> = async () => {}) {
    const pages: { entries: any[]; link: string | null }[] = []
    let url: string | undefined = first
    while (url) {
      const res = await t.call('GET', url, undefined, {}, credentials)
      expect(res.status).toBe(200)
      const link = res.headers.get('link')
      pages.push({ entries: res.body, link })
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined
      if (link) expect(url).toBeDefined()
      await between(pages.length)
    }
    return pages
  }

  const ids = (entries: { id: number }[]) => entries.map((e) => e.id)

  test('each list pages in its own order: pages of `limit`, a Link while more remain, together the whole list', async () => {
    for (let i = 0; i < 7; i++) {
      // Names that sort differently by case and duplicates, so the (lower(name), name, id) key matters.
      const name = ['b', 'A', 'a', 'C', 'b', 'B', 'a'][i]!
      expect((await t.call('POST', '/api/items', { name, categoryId: 1 })).status).toBe(201)
      expect((await t.call('POST', '/api/categories', { name: `${name}${i}` })).status).toBe(201)
      expect((await t.call('POST', '/api/setups', { name })).status).toBe(201)
      expect((await t.call('POST', '/api/threads', { name, categoryId: 1 })).status).toBe(201)
    }
    const { cookie } = await t.signIn()
    for (let i = 0; i < 6; i++) {
      expect((await t.call('POST', '/api/api-keys', { name: `k${i}` }, {}, { cookie, origin: 'http://localhost' })).status).toBe(201)
    }
    const lists = [
      { path: '/api/items', credentials: t.auth },
      { path: '/api/categories', credentials: t.auth },
      { path: '/api/setups', credentials: t.auth },
      { path: '/api/threads', credentials: t.auth },
      { path: '/api/api-keys', credentials: { cookie } },
    ]
    for (const { path, credentials } of lists) {
      const whole = await t.call('GET', path, undefined, {}, credentials)
      expect(whole.headers.get('link')).toBeNull()
      expect(whole.body.length).toBeGreaterThanOrEqual(7)
      const pages = await allPages(`${path}?limit=3`, credentials)
      const sizes = pages.map((p) => p.entries.length)
      expect({ path, sizes }).toEqual({ path, sizes: [...Array(Math.floor(whole.body.length / 3)).fill(3), whole.body.length % 3].filter((n) => n > 0) })
      expect({ path, ids: pages.flatMap((p) => ids(p.entries)) }).toEqual({ path, ids: ids(whole.body) })
      expect(pages.at(-1)!.link).toBeNull()
      // A page is the same JSON as the whole list's entries.
      expect(pages[0]!.entries).toEqual(whole.body.slice(0, 3))
    }
  })

  test('a Link after the longest name of the costliest characters is followed like any other', async () => {
    // Each control character is 6 bytes of the cursor's JSON (\u0001), an emoji 4 bytes of UTF-8.
    const lists = [
      { path: '/api/items', max: 200, body: (name: string) => ({ name, categoryId: 1 }) },
      { path: '/api/setups', max: 200, body: (name: string) => ({ name }) },
      { path: '/api/categories', max: 100, body: (name: string) => ({ name }) },
    ]
    for (const { path, max, body } of lists) {
      for (const fill of ['\u0001', '😀']) {
        for (const first of ['a', 'b']) expect((await t.call('POST', path, body(first + fill.repeat(max - 1)))).status).toBe(201)
      }
      const whole = await t.call('GET', path)
      const pages = await allPages(`${path}?limit=1`)
      expect({ path, ids: pages.flatMap((p) => ids(p.entries)) }).toEqual({ path, ids: ids(whole.body) })
    }
  })

  test('names longer than the API takes, as the SQLite import keeps them (up to MAX_INDEXED_TEXT_BYTES), page like any other', async () => {
    // Written as the import writes them, past the API's 200 characters: quotes (2 bytes of the
    // cursor's JSON each) and control characters (6 each), to the import's byte bound.
    const names = ['a', 'b'].flatMap((first) => ['"', '\u0001'].map((fill) => first + fill.repeat(MAX_INDEXED_TEXT_BYTES - 1)))
    await t.db
      .insertInto('items')
      .values(names.map((name) => ({ name, category_id: 1 })))
      .execute()
    await t.db
      .insertInto('categories')
      .values(names.map((name) => ({ name, icon: 'package' })))
      .execute()
    await t.db
      .insertInto('setups')
      .values(names.map((name) => ({ name })))
      .execute()
    for (const path of ['/api/items', '/api/categories', '/api/setups']) {
      const whole = await t.call('GET', path)
      const pages = await allPages(`${path}?limit=1`)
      expect({ path, ids: pages.flatMap((p) => ids(p.entries)) }).toEqual({ path, ids: ids(whole.body) })
    }
  })

  test('the Link keeps the other query parameters and the cursor continues after the last entry', async () => {
    for (const name of ['tent a', 'tent b', 'stove', 'tent c']) await t.call('POST', '/api/items', { name, categoryId: 1 })
    const first = await t.call('GET', '/api/items?q=tent&limit=2')
    expect(first.body.map((i: { name: string }) => i.name)).toEqual(['tent a', 'tent b'])
    const next = /^<(\/api\/items\?[^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1]
    expect(new URL(next!, 'http://x').searchParams.get('q')).toBe('tent')
    expect(new URL(next!, 'http://x').searchParams.get('limit')).toBe('2')
    const second = await t.call('GET', next!)
    expect(second.body.map((i: { name: string }) => i.name)).toEqual(['tent c'])
    expect(second.headers.get('link')).toBeNull()
    // A cursor without a limit: the rest of the list, whole.
    const rest = await t.call('GET', `/api/items?q=tent&cursor=${new URL(next!, 'http://x').searchParams.get('cursor')}`)
    expect(rest.body.map((i: { name: string }) => i.name)).toEqual(['tent c'])
  })

  test('items added between page fetches, before and after the cursor, make no page skip or repeat an entry', async () => {
    for (let i = 0; i < 10; i++) await t.call('POST', '/api/items', { name: `item ${String(i * 10).padStart(3, '0')}`, categoryId: 1 })
    const before = ids((await t.call('GET', '/api/items')).body)
    let added = 0
    const pages = await allPages('/api/items?limit=3', t.auth, async () => {
      // One that sorts first, one with the same name as an existing item, one at the end.
      for (const name of ['item 000', `item ${String(added * 10 + 5).padStart(3, '0')}`, 'item 999']) {
        expect((await t.call('POST', '/api/items', { name, categoryId: 1 })).status).toBe(201)
      }
      added++
    })
    const seen = pages.flatMap((p) => ids(p.entries))
    expect(new Set(seen).size).toBe(seen.length)
    expect(before.filter((id) => !seen.includes(id))).toEqual([])
    // What was seen is in list order.
    const all = (await t.call('GET', '/api/items')).body as { id: number; name: string }[]
    expect(seen).toEqual(ids(all).filter((id) => seen.includes(id)))
  })

  test('threads created within the same millisecond page exactly once, newest first, with rows added meanwhile', async () => {
    for (let i = 0; i < 6; i++) await t.call('POST', '/api/threads', { name: `t${i}`, categoryId: 1 })
    // Microseconds apart: a cursor that kept only milliseconds would skip or repeat them.
    await sql`update threads set created_at = timestamptz '2026-01-01 00:00:00.123000+00' + (id % 3) * interval '1 microsecond'`.execute(t.db)
    const before = ids((await t.call('GET', '/api/threads')).body)
    const pages = await allPages('/api/threads?limit=2', t.auth, async () => {
      expect((await t.call('POST', '/api/threads', { name: 'newer', categoryId: 1 })).status).toBe(201)
    })
    const seen = pages.flatMap((p) => ids(p.entries))
    expect(seen).toEqual(before)
  })

  test('a bad limit or cursor is a 400 naming the parameter', async () => {
    for (const limit of ['0', '1001', 'abc', '1.5', '-1', '']) {
      const res = await t.call('GET', `/api/items?limit=${limit}`)
      expect({ limit, status: res.status, paths: res.status === 400 ? errorPaths(res) : [] }).toEqual({ limit, status: 400, paths: ['query.limit'] })
    }
    const foreign = Buffer.from(JSON.stringify(['x'])).toString('base64url')
    for (const cursor of ['garbage', foreign, 'W10']) {
      for (const path of ['/api/items', '/api/categories', '/api/setups', '/api/threads']) {
        const res = await t.call('GET', `${path}?limit=5&cursor=${cursor}`)
        expect({ path, cursor, status: res.status, paths: res.status === 400 ? errorPaths(res) : [] }).toEqual({
          path,
          cursor,
          status: 400,
          paths: ['query.cursor'],
        })
      }
    }
    // Well-formed JSON of the right kinds, but not a key any list hands out: an id beyond
    // integer, a name PostgreSQL text cannot hold (NUL).
    const tampered = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url')
    const cases: [string, string][] = [
      ...['/api/items', '/api/categories', '/api/setups'].flatMap((path): [string, string][] => [
        [path, tampered(['a', 2 ** 31])],
        [path, tampered(['a', 0])],
        [path, tampered(['a\u0000', 1])],
      ]),
      ['/api/threads', tampered([0, 2 ** 31])],
      ['/api/threads', tampered([0, -1])],
    ]
    for (const [path, cursor] of cases) {
      const res = await t.call('GET', `${path}?limit=5&cursor=${cursor}`)
      const paths = res.body.error?.details?.map((d: { path: string }) => d.path)
      expect({ path, cursor, status: res.status, paths }).toEqual({ path, cursor, status: 400, paths: ['query.cursor'] })
    }
    expect((await t.call('GET', '/api/items?limit=1000')).status).toBe(200)
  })

  test('without a limit, a list longer than one chunk streams as one JSON array', async () => {
    await sql`insert into items (name, category_id) select 'bulk ' || lpad(g::text, 5, '0'), 1 from generate_series(1, 1234) g`.execute(t.db)
    const res = await t.app.request('/api/items', { headers: t.auth })
    expect(res.headers.get('content-type')).toStartWith('application/json')
    const items = (await res.json()) as { name: string }[]
    expect(items.map((i) => i.name)).toEqual(Array.from({ length: 1234 }, (_, i) => `bulk ${String(i + 1).padStart(5, '0')}`))
  })
})

// Without `limit`, a list longer than one chunk is read chunk by chunk; renames and failures
// between two chunks are what those reads must not show. On a server, where other connections
// write while the list is read (PGlite runs one statement at a time).
describe.if(!!serverUrl)('a whole list longer than one chunk, on a server', () => {
  const t = useTestApp({ on: 'postgres' })
  const count = STREAM_CHUNK * 2 + 10

  /** Runs `during(call)` after the n-th page the items service reads, for the next GET /api/items. */
  async function listWhile(during: (call: number) => Promise<void>, signal?: AbortSignal) {
    const items = t.services.items
    const listPage = items.listPage
    let calls = 0
    items.listPage = async (filter, page) => {
      const result = await listPage.call(items, filter, page)
      await during(++calls)
      return result
    }
    try {
      const res = await t.app.request('/api/items', { headers: t.auth, signal })
      // Read to the end while the wrapper is in place: a streamed answer reads on as it is taken.
      return { res, body: JSON.parse(await res.text()) }
    } finally {
      items.listPage = listPage
    }
  }

  test("is one moment's list: an item renamed between two chunks appears once, where it stood", async () => {
    await sql`insert into items (name, category_id) select 'item ' || lpad(g::text, 4, '0'), 1 from generate_series(1, ${count}) g`.execute(t.db)
    const first = await t.db.selectFrom('items').select('id').where('name', '=', 'item 0001').executeTakeFirstOrThrow()
    // Moved from the first chunk to the last, committed by another connection while the list is read.
    const { res, body } = await listWhile(async (call) => {
      if (call === 2) expect((await t.call('PATCH', `/api/items/${first.id}`, { name: 'zzzz renamed' })).status).toBe(200)
    })
    expect(res.status).toBe(200)
    const list = body as { id: number; name: string }[]
    expect(list).toHaveLength(count)
    expect(new Set(list.map((i) => i.id)).size).toBe(count)
    expect(list[0]).toMatchObject({ id: first.id, name: 'item 0001' })
  }, 60_000)

  test('a database that fails after the first chunk is the usual 503, not a 200 cut short', async () => {
    await sql`insert into items (name, category_id) select 'item ' || g, 1 from generate_series(1, ${count}) g`.execute(t.db)
    const { res, body } = await listWhile(async (call) => {
      if (call === 3) throw new UnavailableError('database unavailable: connection lost')
    }).catch((error) => ({ res: undefined, body: String(error) }))
    expect(res?.status).toBe(503)
    expect(res?.headers.get('retry-after')).toBe('5')
    expect(body.error.code).toBe('unavailable')
  }, 60_000)

  test('a client that hangs up stops the reading: no chunk is read for it after that', async () => {
    await sql`insert into items (name, category_id) select 'item ' || g, 1 from generate_series(1, ${count}) g`.execute(t.db)
    const gone = new AbortController()
    let calls = 0
    // The first chunk, then the snapshot's first: the client goes away.
    await listWhile(async (call) => {
      calls = call
      if (call === 2) gone.abort()
    }, gone.signal).catch(() => {})
    expect(calls).toBe(2)
  }, 60_000)
})

// The Link repeats the client's own query text, `cursor` aside: decoded and encoded again (as
// URLSearchParams does), a text like `%25FF` or `a+b` could come back as another search from the
// second page on. (A query whose percent-encoded bytes are not UTF-8 is refused: see below.)
describe('the next-page Link keeps the query as sent', () => {
  const t = useTestApp()

  /** A Link's path and query, its cursor's value in the query written as CURSOR, and that value. */
  function nextOf(link: string): { path: string; query: string; cursor: string } {
    const url = /^<([^>?]+)\?([^>]*)>; rel="next"$/.exec(link)
    expect(url).not.toBeNull()
    const cursor = /(?:^|&)cursor=([\w-]+)(?:&|$)/.exec(url![2]!)
    expect(cursor).not.toBeNull()
    return { path: url![1]!, query: url![2]!.replace(`cursor=${cursor![1]}`, 'cursor=CURSOR'), cursor: cursor![1]! }
  }

  test('odd percent sequences, + and %2B, encoded names and stray parameters: every page is the same search', async () => {
    const names = [
      'a %FF 1',
      'b %FF 2',
      'c %FF 3',
      'd \uFFFD 4',
      'e a b 1',
      'f a b 2',
      'g a+b 1',
      'h a+b 2',
      'i 100% 1',
      'j 100% 2',
      'k %E2%82 1',
      'l %E2%82 2',
      'm %FFA',
      'n %FF%41',
    ]
    for (const name of names) expect((await t.call('POST', '/api/items', { name, categoryId: 1 })).status).toBe(201)
    const searches: [string, string[]][] = [
      ['q=%25FF', ['a %FF 1', 'b %FF 2', 'c %FF 3', 'm %FFA', 'n %FF%41']],
      ['q=%25ff', ['a %FF 1', 'b %FF 2', 'c %FF 3', 'm %FFA', 'n %FF%41']],
      ['q=%EF%BF%BD', ['d \uFFFD 4']],
      ['q=a+b', ['e a b 1', 'f a b 2']],
      ['q=a%2Bb', ['g a+b 1', 'h a+b 2']],
      ['q=100%25', ['i 100% 1', 'j 100% 2']],
      ['q=%25E2%2582', ['k %E2%82 1', 'l %E2%82 2']],
      ['q=%25FF%2541', ['n %FF%41']],
      // A parameter name written encoded (%71 is q), ones the list does not know, empty ones.
      ['%71=%25FF&&extra&x=%25ZZ+%2B&', ['a %FF 1', 'b %FF 2', 'c %FF 3', 'm %FFA', 'n %FF%41']],
    ]
    for (const [search, expected] of searches) {
      const whole = await t.call('GET', `/api/items?${search}`)
      expect({ search, names: whole.body.map((i: { name: string }) => i.name) }).toEqual({ search, names: expected })
      const seen: string[] = []
      let url: string | undefined = `/api/items?${search}&limit=1`
      while (url) {
        const page = await t.call('GET', url)
        expect({ search, url, status: page.status }).toEqual({ search, url, status: 200 })
        seen.push(...page.body.map((i: { name: string }) => i.name))
        const link = page.headers.get('link')
        if (!link) break
        const next = nextOf(link)
        // The client's own parameters, byte for byte; only the cursor is new.
        expect({ search, path: next.path, query: next.query }).toEqual({ search, path: '/api/items', query: `${search}&limit=1&cursor=CURSOR` })
        url = `${next.path}?${next.query.replace('CURSOR', next.cursor)}`
      }
      expect({ search, names: seen }).toEqual({ search, names: expected })
    }
  })

  test('percent-encoded bytes that are not UTF-8, or a % not followed by two hex digits, are a 400 naming the parameter (never searched for as written)', async () => {
    for (const [search, path] of <[string, string][]>[
      ['q=%FF', 'query.q'],
      ['q=%ff', 'query.q'],
      ['q=100%', 'query.q'],
      ['q=%E2%82', 'query.q'],
      ['%71=%FF%41', 'query.q'],
      ['q=tent&x=%ZZ', 'query.x'],
    ]) {
      const res = await t.call('GET', `/api/items?${search}`)
      expect({ search, status: res.status, paths: errorPaths(res) }).toEqual({ search, status: 400, paths: [path] })
    }
  })

  test('the cursor is replaced where the client put it, however its name is written', async () => {
    for (const name of ['tent a', 'tent b', 'tent c']) await t.call('POST', '/api/items', { name, categoryId: 1 })
    const first = await t.call('GET', '/api/items?q=tent&limit=1')
    const { cursor } = nextOf(first.headers.get('link')!)
    const cases: [string, string][] = [
      [`cursor=${cursor}&q=tent&limit=1`, 'cursor=CURSOR&q=tent&limit=1'],
      [`q=tent&%63ursor=${cursor}&limit=1`, 'q=tent&cursor=CURSOR&limit=1'],
      [`q=tent&limit=1&cursor=${cursor}`, 'q=tent&limit=1&cursor=CURSOR'],
    ]
    for (const [query, expected] of cases) {
      const second = await t.call('GET', `/api/items?${query}`)
      expect({ query, names: second.body.map((i: { name: string }) => i.name) }).toEqual({ query, names: ['tent b'] })
      const next = nextOf(second.headers.get('link')!)
      expect({ query, next: next.query }).toEqual({ query, next: expected })
      const third = await t.call('GET', `/api/items?${next.query.replace('CURSOR', next.cursor)}`)
      expect({ query, names: third.body.map((i: { name: string }) => i.name) }).toEqual({ query, names: ['tent c'] })
    }
  })
})
