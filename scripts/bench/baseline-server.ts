/**
 * The peer GearBox is measured against in scripts/bench-api.ts: bare Bun.serve with the
 * driver alone (postgres.js prepared statements on a server, or PGlite on a data directory),
 * doing the same SQL as GearBox's repositories and writing the same JSON, API-key lookup
 * included. No framework, no validation library, no error handling beyond what a request
 * needs. Env: PORT, and DATABASE_URL or PGLITE_DIR.
 */
import { createHash } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'

type Row = Record<string, any>
type Query = (text: string, params: unknown[]) => Promise<Row[]>

const INT8 = 20
const query: Query = process.env.DATABASE_URL
  ? (() => {
      const sql = postgres(process.env.DATABASE_URL, {
        max: 10,
        types: { int8: { to: INT8, from: [INT8], serialize: String, parse: Number } },
        onnotice: () => {},
      })
      return (text, params) => sql.unsafe(text, params as any[], { prepare: true }) as Promise<Row[]>
    })()
  : (() => {
      const db = new PGlite(process.env.PGLITE_DIR, { parsers: { [INT8]: Number } })
      return async (text, params) => (await db.query<Row>(text, params)).rows
    })()

const ITEM = `select item.*, categories.name as category_name from items as item
  inner join categories on categories.id = item.category_id`
const ORDER_BY_NAME = 'order by lower(item.name), item.name, item.id'
const itemWeight = 'coalesce(i.weight_grams, 0)::text::numeric * i.quantity'
const totalWeight = `coalesce(sum(${itemWeight}), 0)::float8`
const totalPrice = 'coalesce(sum(coalesce(i.price_cents, 0)::bigint * i.quantity), 0)::bigint'
const weightOf = (c: string) => `coalesce(sum(${itemWeight}) filter (where si.classification = '${c}'), 0)::float8`
const LINES = `from setup_items as si inner join items as i on i.id = si.item_id
  inner join categories as c on c.id = i.category_id where si.setup_id = $1`
const SETUP = `select setups.*,
  (select coalesce(json_agg(agg), '[]') from (select i.*, c.name as category_name, si.classification ${LINES}
     order by lower(c.name), c.name, lower(i.name), i.name, i.id) as agg) as items,
  (select to_json(obj) from (select ${weightOf('base')} as "baseWeightGrams", ${weightOf('worn')} as "wornWeightGrams",
     ${weightOf('consumable')} as "consumableWeightGrams", ${totalWeight} as "totalWeightGrams", ${totalPrice} as "totalPriceCents"
     ${LINES}) as obj) as totals,
  (select coalesce(json_agg(agg), '[]') from (select c.id as "categoryId", c.name as "categoryName", ${totalWeight} as "weightGrams",
     ${totalPrice} as "priceCents", count(*) as "itemCount" ${LINES} group by c.id, c.name order by lower(c.name), c.name, c.id) as agg) as "byCategory"
  from setups where id = $1`
const CATEGORIES = `select categories.*, count(i.id) as item_count, ${totalWeight} as total_weight_grams, ${totalPrice} as total_price_cents
  from categories left join items as i on i.category_id = categories.id group by categories.id
  order by lower(categories.name), categories.name, categories.id`
const CREATE = `with item as (insert into items (name, weight_grams, price_cents, category_id) values ($1, $2, $3, $4) returning *)
  select item.*, categories.name as category_name from item inner join categories on categories.id = item.category_id`

const iso = (v: unknown) => new Date(v as string).toISOString()
const item = (r: Row) => ({
  id: r.id,
  name: r.name,
  weightGrams: r.weight_grams,
  priceCents: r.price_cents,
  categoryId: r.category_id,
  notes: r.notes,
  productUrl: r.product_url,
  imageFilename: r.image_filename,
  imageSourceUrl: r.image_source_url,
  quantity: r.quantity,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  categoryName: r.category_name,
})

const json = (body: unknown, status = 200) => Response.json(body, { status })
const notFound = () => json({ error: { code: 'not_found', message: 'not found' } }, 404)

async function authorized(req: Request): Promise<boolean> {
  const key = req.headers.get('authorization')?.slice('Bearer '.length) ?? ''
  const hash = createHash('sha256').update(key).digest('hex')
  const rows = await query('select id, user_id, last_used_at from api_keys where key_hash = $1', [hash])
  return rows.length === 1
}

Bun.serve({
  port: Number(process.env.PORT),
  async fetch(req) {
    if (!(await authorized(req))) return json({ error: { code: 'unauthorized', message: 'invalid API key' } }, 401)
    const path = new URL(req.url).pathname
    const id = Number(path.split('/').pop())
    if (path === '/api/items' && req.method === 'POST') {
      const b = (await req.json()) as Row
      return json(item((await query(CREATE, [b.name, b.weightGrams, b.priceCents, b.categoryId]))[0]!), 201)
    }
    if (path === '/api/items') return json((await query(`${ITEM} ${ORDER_BY_NAME}`, [])).map(item))
    if (path.startsWith('/api/items/')) {
      const [row] = await query(`${ITEM} where item.id = $1`, [id])
      return row ? json(item(row)) : notFound()
    }
    if (path === '/api/categories') {
      const rows = await query(CATEGORIES, [])
      return json(
        rows.map((r) => ({
          id: r.id,
          name: r.name,
          icon: r.icon,
          createdAt: iso(r.created_at),
          itemCount: r.item_count,
          totalWeightGrams: r.total_weight_grams,
          totalPriceCents: r.total_price_cents,
        })),
      )
    }
    if (path.startsWith('/api/setups/')) {
      const [r] = await query(SETUP, [id])
      if (!r) return notFound()
      const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v)
      return json({
        id: r.id,
        name: r.name,
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
        items: (parse(r.items) as Row[]).map((i) => ({ ...item(i), classification: i.classification })),
        totals: parse(r.totals),
        byCategory: parse(r.byCategory),
      })
    }
    return notFound()
  },
})
console.log('baseline listening')
