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
