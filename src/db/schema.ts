import type { Generated } from 'kysely'
import type { Classification } from '../domain/setup'
import type { CandidateStatus, ThreadStatus } from '../domain/thread'
import type { DB, SetupItems, ThreadCandidates, Threads } from './types'

/** A text column that a CHECK constraint holds to `Value`, and that has a default. */
type Enum<Table, Column extends keyof Table, Value extends string> = Omit<Table, Column> & { [C in Column]: Generated<Value> }

/** The generated DB with its enum columns typed as the unions their CHECK constraints allow; repositories query this. */
export interface Database extends DB {
  setup_items: Enum<SetupItems, 'classification', Classification>
  thread_candidates: Enum<ThreadCandidates, 'status', CandidateStatus>
  threads: Enum<Threads, 'status', ThreadStatus>
}

// Every table the migrations create: the generated DB's keys, so the compiler keeps the list whole.
const tables: Record<keyof DB, true> = {
  api_keys: true,
  categories: true,
  items: true,
  login_attempts: true,
  oauth_clients: true,
  oauth_codes: true,
  oauth_tokens: true,
  sessions: true,
  settings: true,
  setup_items: true,
  setups: true,
  thread_candidates: true,
  threads: true,
  users: true,
}

/** GearBox's tables (the migrations' bookkeeping aside): what the bulk loaders may empty; any other table in the schema is not theirs. */
export const APPLICATION_TABLES = Object.keys(tables) as (keyof DB)[]

/** Table names as an SQL list of string literals, for `relname in (...)`. */
export const tableNamesSql = (names: Iterable<string>) => [...names].map((n) => `'${n.replaceAll("'", "''")}'`).join(', ')

/** APPLICATION_TABLES as an SQL list of string literals. */
export const APPLICATION_TABLES_SQL = tableNamesSql(APPLICATION_TABLES)
