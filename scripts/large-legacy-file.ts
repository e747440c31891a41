// A large synthetic legacy GearBox file, for the import benchmark and the kill test.
import { Database } from 'bun:sqlite'
import { rmSync } from 'node:fs'
import { legacyDdl } from '../src/import/legacy-schema'

const T = 1_700_000_000 // 2023-11-14T22:13:20Z

/**
 * A large file of about `total` rows, mostly items, setup_items and thread_candidates,
 * with varied values (fractions, NULLs, escapes) so the bulk path is exercised for real.
 */
export function writeLargeLegacyFile(file: string, total: number): void {
  rmSync(file, { force: true })
  const db = new Database(file, { create: true })
  db.exec(legacyDdl)
  const items = Math.round(total * 0.37)
  const setupItems = Math.round(total * 0.37)
  const threads = Math.max(1, Math.round(total * 0.01))
  const candidates = total - items - setupItems - threads - 40
  const setups = 20
  db.transaction(() => {
    const cat = db.prepare('insert into categories (id, name, icon, created_at) values (?, ?, ?, ?)')
    for (let i = 1; i <= 20; i++) cat.run(i, i === 1 ? 'Uncategorized' : `Category ${i}`, 'package', T)
    const item = db.prepare(`insert into items (id, name, weight_grams, price_cents, category_id, notes, product_url, quantity, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    for (let i = 1; i <= items; i++) {
      item.run(
        i,
        `Item ${i}`,
        i % 7 === 0 ? null : i * 1.1 + 0.01,
        i % 5 === 0 ? null : i * 3,
        (i % 20) + 1,
        i % 3 === 0 ? `note\t${i}\nline 2 \\ ✓` : null,
        i % 4 === 0 ? `https://example.com/items/${i}` : null,
        (i % 3) + 1,
        T + i,
        T + 2 * i,
      )
    }
    const setup = db.prepare('insert into setups (id, name, created_at, updated_at) values (?, ?, ?, ?)')
    for (let i = 1; i <= setups; i++) setup.run(i, `Setup ${i}`, T, T)
    const si = db.prepare('insert into setup_items (id, setup_id, item_id, classification) values (?, ?, ?, ?)')
    const classes = ['base', 'worn', 'consumable']
    // Distinct (setup, item) pairs: each setup takes a consecutive run of items.
    for (let i = 1; i <= setupItems; i++) si.run(i, ((i - 1) % setups) + 1, (Math.floor((i - 1) / setups) % items) + 1, classes[i % 3]!)
    const thread = db.prepare('insert into threads (id, name, status, resolved_candidate_id, category_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)')
    for (let i = 1; i <= threads; i++) thread.run(i, `Thread ${i}`, i % 2 === 0 ? 'resolved' : 'active', i % 2 === 0 ? i : null, (i % 20) + 1, T, T)
    const cand =
      db.prepare(`insert into thread_candidates (id, thread_id, name, weight_grams, price_cents, category_id, status, pros, sort_order, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    const statuses = ['researching', 'ordered', 'arrived']
    // Candidate i belongs to thread ((i-1) % threads) + 1, so candidate i <= threads belongs to thread i.
    for (let i = 1; i <= candidates; i++)
      cand.run(i, ((i - 1) % threads) + 1, `Candidate ${i}`, i / 3, i % 9 === 0 ? null : i, (i % 20) + 1, statuses[i % 3]!, i % 2 ? 'light' : null, i / 7, T, T)
    const user = db.prepare('insert into users (id, username, password_hash, created_at) values (?, ?, ?, ?)')
    for (let i = 1; i <= 19; i++) user.run(i, `user${i}`, '$argon2id$v=19$x', T)
  })()
  db.close()
}
