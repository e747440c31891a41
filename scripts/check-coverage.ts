/**
 * Fails (exit 1) when the line coverage of any folder of database code is under the floor.
 * Reads the lcov report that `npm run test:coverage` writes (`coverage/lcov.info`); prints
 * the covered share of lines per folder and for all three together.
 *
 *   bun scripts/check-coverage.ts [lcov file] [--min <percent>]
 */
import { parseArgs } from 'node:util'

const FOLDERS = ['src/db/', 'src/repositories/', 'src/import/']
const DEFAULT_MIN = 90

const { values, positionals } = parseArgs({ args: Bun.argv.slice(2), options: { min: { type: 'string' } }, allowPositionals: true })
const file = positionals[0] ?? 'coverage/lcov.info'
const min = Number(values.min ?? DEFAULT_MIN)

/** Lines found and hit per source file, from lcov's `SF:`, `LF:` and `LH:` records. */
function parseLcov(text: string): Map<string, { found: number; hit: number }> {
  const files = new Map<string, { found: number; hit: number }>()
  let current: { found: number; hit: number } | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('SF:')) {
      current = { found: 0, hit: 0 }
      files.set(line.slice(3), current)
    } else if (line.startsWith('LF:') && current) current.found = Number(line.slice(3))
    else if (line.startsWith('LH:') && current) current.hit = Number(line.slice(3))
  }
  return files
}

const report = Bun.file(file)
if (!(await report.exists())) {
  console.error(`${file} not found: run \`npm run test:coverage\` first`)
  process.exit(1)
}
const files = parseLcov(await report.text())
const total = { found: 0, hit: 0 }
const rows: string[] = []
const under: string[] = []
for (const folder of FOLDERS) {
  const sum = { found: 0, hit: 0, files: 0 }
  for (const [path, lines] of files) {
    if (!path.startsWith(folder)) continue
    sum.found += lines.found
    sum.hit += lines.hit
    sum.files++
  }
  if (sum.files === 0) {
    console.error(`${file} has no file under ${folder}: was the whole suite run with coverage?`)
    process.exit(1)
  }
  total.found += sum.found
  total.hit += sum.hit
  rows.push(`${folder.padEnd(20)} ${percent(sum).padStart(7)}  (${sum.hit}/${sum.found} lines, ${sum.files} files)`)
  if ((sum.hit / sum.found) * 100 < min) under.push(`${folder} ${percent(sum)}`)
}
console.log(rows.join('\n'))
console.log(`${'together'.padEnd(20)} ${percent(total).padStart(7)}  (${total.hit}/${total.found} lines; floor ${min}% for each folder)`)
if (under.length > 0) {
  console.error(`line coverage under the floor of ${min}%: ${under.join(', ')}`)
  process.exit(1)
}

function percent({ found, hit }: { found: number; hit: number }): string {
  return `${((hit / found) * 100).toFixed(1)}%`
}
