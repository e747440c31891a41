/** `weightGrams` -> `weight_grams`, as a type. */
type SnakeCase<S extends string> = S extends `${infer C}${infer Rest}` ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${SnakeCase<Rest>}` : S

/** The columns that hold the fields of `T`: same values, snake_case names. */
export type Columns<T> = { [K in keyof T & string as SnakeCase<K>]: T[K] }

// Every row of every list maps its fields through here: each name is converted once.
const snakeNames = new Map<string, string>()
function snakeCase(key: string): string {
  let name = snakeNames.get(key)
  if (name === undefined) {
    name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    snakeNames.set(key, name)
  }
  return name
}

/** The fields `keys` read from a row's snake_case columns; the row's type must match the fields' types. */
export function fromColumns<T, K extends keyof T & string>(row: Columns<Pick<T, K>>, keys: readonly K[]): Pick<T, K> {
  const source = row as Record<string, unknown>
  const fields: Record<string, unknown> = {}
  for (const key of keys) fields[key] = source[snakeCase(key)]
  return fields as Pick<T, K>
}

/**
 * The fields `keys` of `fields` as column values. Fields that are absent stay undefined, and
 * Kysely leaves undefined columns out, so a patch touches only the columns it names.
 */
export function toColumns<T, K extends keyof T & string>(fields: Partial<Pick<T, K>>, keys: readonly K[]): Partial<Columns<Pick<T, K>>> {
  const source = fields as Record<string, unknown>
  return Object.fromEntries(keys.map((key) => [snakeCase(key), source[key]])) as Partial<Columns<Pick<T, K>>>
}
