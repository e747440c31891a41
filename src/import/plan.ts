import type { TableSpec } from './legacy-schema'
import { type Problem, printed } from './problems'
import { rowProblem, type ScanResult, type SourceTable } from './scan'

export interface PlannedTable {
  spec: TableSpec
  /** Rows to copy, in key order, every value normalized. */
  rows: unknown[][]
  /** Rows left out (only with skipInvalid), whole, with every reason. */
  rejected: { row: unknown[]; reasons: Problem[] }[]
  /** The id sequence continues after this (tables with an integer id; see SourceTable). */
  highWater?: number
}

/**
 * Decides which rows are copied; the scan is left as it was. Without skipInvalid that is
 * every row (throws when the scan found problems: the caller refuses those files). With it,
 * rows with problems are left out, and so is every row that refers to a left-out row, until
 * nothing else refers to a left-out row.
 */
export function planImport(scan: ScanResult, skipInvalid: boolean): PlannedTable[] {
  if (!skipInvalid && scan.problems.length > 0) throw new Error('planImport: problems must be resolved before planning')
  const problems = new Map(scan.tables.map((t) => [t, new Map([...t.problems].map(([r, list]) => [r, [...list]]))]))
  if (skipInvalid) cascade(scan.tables, problems)
  return scan.tables.map((t) => {
    const rows: unknown[][] = []
    const rejected: PlannedTable['rejected'] = []
    const reasonsOf = problems.get(t)!
    t.rows.forEach((row, r) => {
      const reasons = reasonsOf.get(r)
      if (reasons) rejected.push({ row, reasons })
      else rows.push(row)
    })
    return { spec: t.spec, rows, rejected, highWater: t.highWater }
  })
}

function cascade(tables: SourceTable[], problems: Map<SourceTable, Map<number, Problem[]>>): void {
  const byName = new Map(tables.map((t) => [t.spec.name, t]))
  for (let changed = true; changed; ) {
    changed = false
    for (const child of tables) {
      const childProblems = problems.get(child)!
      child.spec.columns.forEach((column, c) => {
        if (!column.ref) return
        const parent = byName.get(column.ref.table)!
        const parentProblems = problems.get(parent)!
        const p = parent.spec.columns.findIndex((col) => col.name === column.ref!.column)
        // A value is gone only if no kept row has it (a left-out duplicate leaves its twin).
        const kept = new Set(parent.rows.filter((_, r) => !parentProblems.has(r)).map((row) => row[p]))
        const leftOut = new Set([...parentProblems.keys()].map((r) => parent.rows[r]![p]).filter((v) => !kept.has(v)))
        if (leftOut.size === 0) return
        child.rows.forEach((row, r) => {
          if (childProblems.has(r) || row[c] === null || !leftOut.has(row[c])) return
          const problem = rowProblem(child, r, {
            kind: 'parent_left_out',
            column: column.name,
            value: row[c],
            message: `${column.ref!.table} ${printed(row[c])} was left out`,
          })
          childProblems.set(r, [problem])
          changed = true
        })
      })
    }
  }
}

/** A file without category 1 gets the built-in one kept (the application's fallback), which is then no part of the copy. */
export const keepsSeedCategory = (plan: PlannedTable[]) => !plan.find((t) => t.spec.name === 'categories')!.rows.some((r) => r[0] === 1)
