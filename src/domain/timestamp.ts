/**
 * A moment as GearBox hands it out, in the HTTP API and in MCP: ISO 8601 in UTC with
 * milliseconds, `2026-01-01T00:00:00.000Z`, as Date.prototype.toISOString writes it. Domain
 * objects carry this string rather than a Date: JSON.stringify calls a Date's toJSON, which
 * made serializing a list of items about five times slower than the string does.
 */
export type Timestamp = string

/**
 * `value` as a Timestamp: a Date as the driver returns a timestamptz, or a timestamptz as
 * PostgreSQL writes it in JSON (`2026-01-01T00:00:00.123456+00:00`, cut to milliseconds).
 */
export function toTimestamp(value: Date | string): Timestamp {
  return (typeof value === 'string' ? new Date(value) : value).toISOString()
}
