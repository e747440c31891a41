import { z } from '@hono/zod-openapi'
import { type FieldValues, gearFields, Text } from './gear'
import type { Timestamp } from './timestamp'

export const THREAD_STATUSES = ['active', 'resolved'] as const
export type ThreadStatus = (typeof THREAD_STATUSES)[number]
export const CANDIDATE_STATUSES = ['researching', 'ordered', 'arrived'] as const
export type CandidateStatus = (typeof CANDIDATE_STATUSES)[number]

export interface Thread {
  id: number
  name: string
  status: ThreadStatus
  categoryId: number
  resolvedCandidateId: number | null
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ThreadSummary extends Thread {
  candidateCount: number
}

/** A candidate's writable fields: the gear description plus where it stands in the thread. */
export const candidateFields = {
  ...gearFields,
  status: z.enum(CANDIDATE_STATUSES),
  pros: Text,
  cons: Text,
  // zod rejects NaN and the infinities, which the sort_order check would refuse anyway.
  sortOrder: z.number(),
}

export type CandidateFields = FieldValues<typeof candidateFields>
export const CANDIDATE_KEYS = Object.keys(candidateFields) as (keyof CandidateFields)[]

/** A product under research; resolving its thread buys it as an item. */
export interface Candidate extends CandidateFields {
  id: number
  threadId: number
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ThreadWithCandidates extends Thread {
  candidates: Candidate[]
}

export interface NewThread {
  name: string
  categoryId: number
}

export type ThreadPatch = Partial<NewThread>

/** Only `name` is required; `categoryId` defaults to the thread's, `sortOrder` to after the last candidate. */
export type NewCandidate = Pick<CandidateFields, 'name'> & Partial<CandidateFields>
export type CandidatePatch = Partial<CandidateFields>

export interface ThreadResolution {
  status: ThreadStatus
  resolvedCandidateId: number | null
}
