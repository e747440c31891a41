import type { Setting } from '../domain/setting'
import { type FieldProblem, ValidationError } from '../errors'
import type { Store } from '../repositories'

/** Any key may be stored; these rules keep keys printable and values small. */
export const SETTING_KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9_.-]{0,63}$/
/** In characters (code points), as zod and PostgreSQL's char_length count every other string. */
export const MAX_SETTING_VALUE_LENGTH = 1000
export const WEIGHT_UNITS = ['g', 'oz', 'lb', 'kg'] as const

/** How many code points `text` holds (an emoji is one; String.length counts its two UTF-16 units). */
const codePoints = (text: string) => {
  let n = 0
  for (const _ of text) n++
  return n
}

const currencies = new Set(Intl.supportedValuesOf('currency'))

/** Known keys and the values they accept; other keys take any string within the limits. */
const knownKeys = new Map<string, (value: string) => string | undefined>([
  ['weightUnit', (v) => ((WEIGHT_UNITS as readonly string[]).includes(v) ? undefined : `must be one of ${WEIGHT_UNITS.join(', ')}`)],
  ['currency', (v) => (currencies.has(v) ? undefined : 'must be an ISO 4217 currency code such as EUR or USD')],
])

export class SettingService {
  constructor(private readonly store: Store) {}

  /** Every stored setting; keys that were never set are absent. */
  all(): Promise<Record<string, string>> {
    return this.store.read((repos) => repos.settings.all())
  }

  /**
   * Stores the value after checking the key, and the value for known keys; ValidationError
   * otherwise, naming the key as the route's path parameter (`param.key`, as the validators name
   * one) and the value as the body's field (`value`).
   */
  async set(key: string, value: string): Promise<Setting> {
    const problems: FieldProblem[] = []
    if (!SETTING_KEY_PATTERN.test(key)) {
      problems.push({ path: 'param.key', message: 'must start with a letter and hold at most 64 letters, digits, _ . or -' })
    } else if (codePoints(value) > MAX_SETTING_VALUE_LENGTH) {
      problems.push({ path: 'value', message: `must be at most ${MAX_SETTING_VALUE_LENGTH} characters` })
    } else {
      const problem = knownKeys.get(key)?.(value)
      if (problem) problems.push({ path: 'value', message: `${key} ${problem}` })
    }
    if (problems.length > 0) throw new ValidationError('invalid setting', problems)
    return this.store.autocommit((repos) => repos.settings.set(key, value))
  }
}
