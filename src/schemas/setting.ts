import { z } from '@hono/zod-openapi'
import { MAX_SETTING_VALUE_LENGTH, SETTING_KEY_PATTERN, WEIGHT_UNITS } from '../services/setting-service'

// The service checks keys and values (for every caller); these schemas describe them.
export const SettingParams = z.object({
  key: z.string().openapi({
    param: { name: 'key', in: 'path' },
    pattern: SETTING_KEY_PATTERN.source,
    example: 'weightUnit',
    description: `Known keys: weightUnit (${WEIGHT_UNITS.join(' | ')}), currency (ISO 4217 code such as EUR). Any other key matching the pattern stores any string.`,
  }),
})

export const PutSettingBody = z
  .object({ value: z.string().openapi({ maxLength: MAX_SETTING_VALUE_LENGTH, example: 'g' }) })
  .strict()
  .openapi('PutSetting')

export const SettingSchema = z.object({ key: z.string(), value: z.string() }).openapi('Setting')

export const SettingsSchema = z
  .record(z.string(), z.string())
  .openapi('Settings', { description: 'Every stored setting as key -> value; keys never set are absent', example: { weightUnit: 'g', currency: 'EUR' } })
