import { writeFileSync } from 'node:fs'
import type { TableSpec } from './legacy-schema'
import type { PlannedTable } from './plan'
import { jsonSafe, type Problem, type ProblemKind, problemTitles } from './problems'
import type { TableVerification } from './verify'

export interface Output {
  write(text: string): unknown
}

/** Every problem, grouped by kind, one line each. */
export function formatProblems(problems: Problem[]): string {
  const groups = new Map<ProblemKind, Problem[]>()
  for (const p of problems) groups.set(p.kind, [...(groups.get(p.kind) ?? []), p])
  let text = ''
  for (const [kind, list] of groups) {
    text += `\n${problemTitles[kind]} [${kind}]: ${list.length}\n`
    for (const p of list) text += `  ${p.table} ${JSON.stringify(p.id)} ${p.column} = ${JSON.stringify(p.value)}: ${p.message}\n`
  }
  return text
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
}

/**
 * One JSON line per left-out row: the whole row as read from the file, and why; then one per
 * row that was kept but not whole (its image is missing), marked `kept: true`.
 */
export function writeRejects(path: string, plan: PlannedTable[], keptRows: { spec: TableSpec; row: unknown[]; reasons: Problem[] }[] = []): void {
  const line = (spec: TableSpec, row: unknown[], reasons: Problem[], kept?: true) => {
    const values = Object.fromEntries(spec.columns.map((c, i) => [c.name, jsonSafe(row[i])]))
    return JSON.stringify({ table: spec.name, id: reasons[0]!.id, row: values, reasons, ...(kept && { kept }) })
  }
  const lines = [
    ...plan.flatMap((table) => table.rejected.map(({ row, reasons }) => line(table.spec, row, reasons))),
    ...keptRows.map(({ spec, row, reasons }) => line(spec, row, reasons, true)),
  ]
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''))
}

export interface TableSummary {
  table: string
  rows: number
  rejected: number
  ms: number
}

/** A fixed-width table: rows, rejected, time and rows/s per table, then the totals. */
export function formatSummary(summary: TableSummary[]): string {
  const total = summary.reduce((t, s) => ({ table: 'total', rows: t.rows + s.rows, rejected: t.rejected + s.rejected, ms: t.ms + s.ms }), {
    table: 'total',
    rows: 0,
    rejected: 0,
    ms: 0,
  })
  const lines = [...summary, total].map((s) => [
    s.table,
    String(s.rows),
    String(s.rejected),
    `${(s.ms / 1000).toFixed(2)} s`,
    s.ms > 0 ? String(Math.round((s.rows / s.ms) * 1000)) : '-',
  ])
  const header = ['table', 'rows', 'rejected', 'time', 'rows/s']
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [format(header), rule, ...lines.slice(0, -1).map(format), rule, format(lines.at(-1)!)].join('\n') + '\n'
}

export function formatVerification(results: TableVerification[]): string {
  return results
    .map((r) => {
      const next = r.nextId ? `, next id ${r.nextId.expected}` : ''
      const target = r.ok ? '' : ` (target: ${r.target.rows} rows, md5 ${r.target.md5}${r.nextId ? `, next id ${r.nextId.actual}` : ''})`
      return `  ${r.ok ? 'ok  ' : 'DIFF'} ${r.table}: ${r.source.rows} rows, md5 ${r.source.md5}${next}${target}`
    })
    .join('\n')
}

/** Progress per table: a redrawn bar on a terminal, one line per table otherwise. */
export class Progress {
  private readonly started = new Map<string, number>()
  private readonly done = new Map<string, number>()
  private readonly totals = new Map<string, number>()
  readonly times = new Map<string, number>()
  readonly steps = new Map<string, number>()

  /**
   * Lines go to `out`; on a terminal (`tty`) a bar per table is drawn on `bar` (by default
   * `out`) and erased when the table is done. A bar elsewhere than `out` shows a copy whose
   * lines are held back until the import may report them.
   */
  constructor(
    private readonly out: Output,
    tty: boolean,
    private readonly bar: Output | undefined = tty ? out : undefined,
  ) {}

  start(table: string, rows: number): void {
    this.started.set(table, performance.now())
    this.totals.set(table, rows)
    this.done.set(table, 0)
    this.draw(table)
  }

  advance(table: string, rows: number): void {
    this.done.set(table, (this.done.get(table) ?? 0) + rows)
    this.draw(table)
  }

  finish(table: string): void {
    const ms = performance.now() - this.started.get(table)!
    this.times.set(table, ms)
    this.erase()
    this.out.write(`${table}: ${this.totals.get(table)} rows copied in ${(ms / 1000).toFixed(2)} s\n`)
  }

  /** Erases a bar left on the terminal (a copy abandoned mid-table). */
  erase(): void {
    this.bar?.write('\r\x1b[2K')
  }

  step(label: string, ms: number): void {
    this.steps.set(label, ms)
    this.out.write(`${label}: ${(ms / 1000).toFixed(2)} s\n`)
  }

  private draw(table: string): void {
    if (!this.bar) return
    const total = this.totals.get(table)!
    const done = this.done.get(table)!
    const width = 30
    const filled = total === 0 ? width : Math.round((done / total) * width)
    this.bar.write(`\r\x1b[2K${table.padEnd(18)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`)
  }
}
