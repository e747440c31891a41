import { readFileSync } from 'node:fs'

/**
 * On `--help` or `-h` among the arguments: prints the opening comment of the script at
 * `scriptPath` (its usage: what it measures, its arguments and variables) and exits with 0.
 * Call it first, before the script reads its arguments.
 */
export function helpOnRequest(scriptPath: string): void {
  if (!process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) return
  const text = readFileSync(scriptPath, 'utf8')
  // A /** … */ block, or the run of // lines the file starts with.
  const block = /^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1]
  const lines =
    block !== undefined
      ? block.split('\n').map((l) => l.replace(/^\s*\* ?/, ''))
      : (/^(?:\/\/.*\n)+/.exec(text)?.[0] ?? '').split('\n').map((l) => l.replace(/^\/\/ ?/, ''))
  console.log(lines.join('\n').trim())
  process.exit(0)
}
