import type { Compilable, CompiledQuery, Kysely } from 'kysely'
import type { Database } from './schema'

/** Stands for argument `index` while Kysely builds and compiles a prepared query. */
class Slot {
  constructor(readonly index: number) {}
}

/**
 * A query that Kysely builds and compiles once, on its first run; every later run sends the
 * same SQL with the new arguments in place (building and compiling cost 10-20 µs of CPU per
 * query, about as much as postgres.js spends running a small prepared one). Returns the rows.
 *
 * `build(db, ...args)` receives placeholders, not values: it must use each argument only as a
 * value (in `where`, `set` or `values`), never inspect it, and build the same SQL whatever the
 * arguments are. A query whose shape depends on its inputs (optional filters, a varying column
 * list) cannot be prepared. Any `db` may run it, a transaction too: the SQL is the same for
 * every PostgreSQL dialect.
 */
export function prepared<A extends unknown[], O>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<O>,
): (db: Kysely<Database>, ...args: A) => Promise<O[]> {
  let compiled: CompiledQuery<O> | undefined
  return async (db, ...args) => {
    compiled ??= compile(build(db, ...(args.map((_, index) => new Slot(index)) as A)), args.length)
    const parameters = compiled.parameters.map((value) => (value instanceof Slot ? args[value.index] : value))
    return (await db.executeQuery<O>({ ...compiled, parameters })).rows
  }
}

/** Compiles `query`; throws if an argument never reached the SQL as a parameter (a builder that inspected it). */
function compile<O>(query: Compilable<O>, arity: number): CompiledQuery<O> {
  const compiled = query.compile()
  for (let index = 0; index < arity; index++) {
    if (!compiled.parameters.some((value) => value instanceof Slot && value.index === index)) {
      throw new Error(`prepared query: argument ${index} is not a parameter of ${compiled.sql}`)
    }
  }
  return compiled
}
