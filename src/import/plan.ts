import type { TableSpec } from './legacy-schema'
import type { Problem } from './problems'
import { addProblem, type ScanResult, type SourceTable } from './scan'

export interface PlannedTable {
  spec: TableSpec
  /** Rows to copy, in key order, every value normalized. */
  rows: unknown[][]
  /** Rows left out (only with skipInvalid), whole, with every reason. */
  rejected: { row: unknown[]; reasons: Problem[] }[]
}

/**
 * Decides which rows are copied. Without skipInvalid that is every row (the caller refuses
 * when the scan found problems). With it, rows with problems are left out, and so is every
 * row that refers to a left-out row, until nothing else refers to a left-out row.
 */
export function planImport(scan: ScanResult, skipInvalid: boolean): PlannedTable[] {
  if (skipInvalid) cascade(scan.tables)
  return scan.tables.map((t) => {
    const rows: unknown[][] = []
    const rejected: PlannedTable['rejected'] = []
    t.rows.forEach((row, r) => {
      const reasons = t.problems.get(r)
      if (reasons) rejected.push({ row, reasons })
      else rows.push(row)
    })
    if (!skipInvalid && rejected.length > 0) throw new Error('planImport: problems must be resolved before planning')
    return { spec: t.spec, rows, rejected }
  })
}

function cascade(tables: SourceTable[]): void {
  const byName = new Map(tables.map((t) => [t.spec.name, t]))
  for (let changed = true; changed; ) {
    changed = false
    for (const child of tables) {
      child.spec.columns.forEach((column, c) => {
        if (!column.ref) return
        const parent = byName.get(column.ref.table)!
        const p = parent.spec.columns.findIndex((col) => col.name === column.ref!.column)
        // A value is gone only if no kept row has it (a left-out duplicate leaves its twin).
        const kept = new Set(parent.rows.filter((_, r) => !parent.problems.has(r)).map((row) => row[p]))
        const leftOut = new Set([...parent.problems.keys()].map((r) => parent.rows[r]![p]).filter((v) => !kept.has(v)))
        if (leftOut.size === 0) return
        child.rows.forEach((row, r) => {
          if (child.problems.has(r) || row[c] === null || !leftOut.has(row[c])) return
          addProblem(child, r, {
            kind: 'parent_left_out',
            column: column.name,
            value: row[c],
            message: `${column.ref!.table} ${JSON.stringify(row[c])} was left out`,
          })
          changed = true
        })
      })
    }
  }
}
