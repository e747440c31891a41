import { expect } from 'bun:test'

/** Matches a Timestamp (src/domain/timestamp.ts): ISO 8601 in UTC with milliseconds. */
export const anyTimestamp = () => expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
