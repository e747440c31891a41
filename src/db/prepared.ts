import type { Compilable, CompiledQuery, Kysely } from 'kysely'
import type { Database } from './schema'

/** Stands for argument `index` (or its property `key`) while Kysely builds and compiles a prepared query. */
class Slot {
  constructor(
    readonly index: number,
    readonly key?: string,
  ) {}

  get name(): string {
    return this.key === undefined ? `argument ${this.index}` : `argument ${this.index}.${this.key}`
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && value.constructor === Object

/**
 * A query that Kysely builds and compiles once, on its first run; every later run sends the
 * same SQL with the new arguments in place (building and compiling cost 10-50 µs of CPU per
 * query, as much as postgres.js spends running a small prepared one). Returns the rows.
 *
 * `build(db, ...args)` receives placeholders, not values: it must use each argument only as a
 * value (in `where`, `set` or `values`), never inspect it, and build the same SQL whatever the
 * arguments are. A plain-object argument (the row of an insert) stands for its properties, one
 * placeholder each: it must have the same keys on every run, none of them undefined. A query
 * whose shape depends on its inputs (optional filters, a varying column list) cannot be
 * prepared. Any `db` may run it, a transaction too: the SQL is the same for every PostgreSQL
 * dialect. Throws an Error naming the argument when one never reaches the SQL as a
 * parameter, or an object argument lacks a key of the first run or has one more.
 */
export function prepared<A extends unknown[], O>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<O>,
): (db: Kysely<Database>, ...args: A) => Promise<O[]> {
  let compiled: CompiledQuery<O> | undefined
  // How many keys each plain-object argument had on the first run.
  let keyCounts: (number | undefined)[] = []
  return async (db, ...args) => {
    if (!compiled) {
      const slots = args.map((arg, index) => (isRecord(arg) ? Object.fromEntries(Object.keys(arg).map((key) => [key, new Slot(index, key)])) : new Slot(index)))
      compiled = compile(
        build(db, ...(slots as A)),
        slots.flatMap((s) => (s instanceof Slot ? [s] : Object.values(s))),
      )
      keyCounts = slots.map((s) => (s instanceof Slot ? undefined : Object.keys(s).length))
    }
    keyCounts.forEach((count, index) => {
      // A key of the first run that is missing is refused where it is read (argumentFor).
      if (count !== undefined && Object.keys(args[index] as object).length > count) {
        throw new Error(`prepared query: argument ${index} has keys the first run did not have; they would be left out`)
      }
    })
    const parameters = compiled.parameters.map((value) => (value instanceof Slot ? argumentFor(value, args) : value))
    return (await db.executeQuery<O>({ ...compiled, parameters })).rows
  }
}

function argumentFor(slot: Slot, args: unknown[]): unknown {
  if (slot.key === undefined) return args[slot.index]
  const value = (args[slot.index] as Record<string, unknown>)[slot.key]
  if (value === undefined) throw new Error(`prepared query: ${slot.name} is undefined`)
  return value
}

/** Compiles `query`; throws if one of `slots` never reached the SQL as a parameter (a builder that inspected it). */
function compile<O>(query: Compilable<O>, slots: Slot[]): CompiledQuery<O> {
  const compiled = query.compile()
  for (const slot of slots) {
    if (!compiled.parameters.includes(slot)) throw new Error(`prepared query: ${slot.name} is not a parameter of ${compiled.sql}`)
  }
  return compiled
}
