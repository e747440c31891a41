import { z } from '@hono/zod-openapi'
import { MAX_INT4, MAX_NAME_LENGTH, MAX_PRICE_CENTS, MAX_WEIGHT_GRAMS, nameString } from '../schemas/common'
import { isPlainFileName } from './image'

/**
 * An http or https URL, stored exactly as sent: zod's url() would trim it and strip tabs and
 * line breaks, so a URL holding any of those is refused instead of silently changed.
 */
const HttpUrl = z
  .string()
  .refine((url) => !/^\s|\s$|[\t\n\r]/.test(url), { message: 'must not start or end with whitespace, nor hold a tab or line break', abort: true })
  .pipe(z.url({ protocol: /^https?$/ }).max(2048))
  .openapi({ format: 'uri', maxLength: 2048 })

export const BOUND = 'The maximum keeps every total (weight or price x quantity, summed over a million rows) exact below 2^53'

/** An optional free text: notes, pros, cons. */
export const Text = z.string().max(10_000).nullable()

/**
 * The description of a piece of gear, which items and thread candidates share: each field with
 * the rules a write must meet (nullable ones take null for "unknown"). Item and candidate types,
 * their request and response schemas, their row mappings and the resolve step derive from it.
 * Each key is a column of `items` and of `thread_candidates` in snake_case.
 */
export const gearFields = {
  name: nameString(MAX_NAME_LENGTH).openapi({ example: 'Tent' }),
  categoryId: z.int().min(1).max(MAX_INT4),
  weightGrams: z.number().min(0).max(MAX_WEIGHT_GRAMS).nullable().openapi({ example: 1250.5, description: BOUND }),
  priceCents: z.int().min(0).max(MAX_PRICE_CENTS).nullable().openapi({ example: 34900, description: BOUND }),
  notes: Text,
  productUrl: HttpUrl.nullable().openapi({ example: 'https://example.com/tent' }),
  imageFilename: z
    .string()
    .max(255)
    .refine(isPlainFileName, 'must be a file name as POST /api/images hands out: not empty, no folder, no leading dot')
    .openapi({ minLength: 1 })
    .nullable(),
  imageSourceUrl: HttpUrl.nullable(),
}

/** The values a set of field schemas describes: `{ weightGrams: number | null, ... }`. */
export type FieldValues<Fields extends Record<string, z.ZodType>> = { [K in keyof Fields]: z.output<Fields[K]> }

export type GearFields = FieldValues<typeof gearFields>
export const GEAR_KEYS = Object.keys(gearFields) as (keyof GearFields)[]

/** Just the gear description of an item or a candidate: what resolving a thread carries over to the new item. */
export function gearOf(source: GearFields): GearFields {
  return Object.fromEntries(GEAR_KEYS.map((key) => [key, source[key]])) as GearFields
}
