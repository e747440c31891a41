import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { envSchema } from '../src/config'

const root = path.join(import.meta.dir, '..')
const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
const scripts = new Set(Object.keys(pkg.scripts))
const packages = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }))

// Programs a reader has or installs apart from the project; the README only shows them in use.
const OUTSIDE_PROGRAMS = new Set(['curl', 'jq', 'sqlite3', 'cp', 'pg_dump', 'docker', 'echo'])

/**
 * Every command line the README shows: each line of a ```sh block (continuations joined,
 * comments dropped, `a && b` split) and each inline `code` span that starts with a command.
 */
function readmeCommands(): string[] {
  const commands: string[] = []
  for (const block of readme.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    const lines = block[1]!.replace(/\\\n\s*/g, ' ').split('\n')
    for (const line of lines) {
      const command = line.replace(/(^|\s)#.*$/, '').trim()
      if (command) commands.push(...command.split(/\s*&&\s*/))
    }
  }
  for (const span of readme.matchAll(/`([^`\n]+)`/g)) {
    const words = withoutAssignments(span[1]!).split(/\s+/)
    if (['npm', 'npx', 'bun', 'bunx', 'bash'].includes(words[0]!) || words[0]!.startsWith('.ci/')) commands.push(span[1]!)
  }
  return commands
}

/** The command after any leading `NAME=value` environment assignments. */
const withoutAssignments = (command: string) => command.replace(/^(\s*[A-Z_][A-Z0-9_]*=\S+\s+)+/, '').trim()

/** Why `command` would not run as written right after `npm install` (no `bun` on the PATH); undefined if it would. */
function problemWith(command: string): string | undefined {
  // `KEY=$(curl ...)`: the command is the one substituted.
  const substituted = /^[A-Z_][A-Z0-9_]*=\$\((.*)\)$/.exec(command.trim())?.[1]
  const [program, ...args] = withoutAssignments(substituted ?? command).split(/\s+/)
  switch (program) {
    case 'npm': {
      const [verb, name, ...rest] = args
      if (verb === 'install' || verb === 'ci') return undefined
      if (verb === 'start' || verb === 'test') return scripts.has(verb) ? undefined : `package.json has no "${verb}" script`
      if (verb !== 'run') return `npm ${verb} is not a command the README should need`
      if (!name || !scripts.has(name)) return `package.json has no "${name}" script`
      // Without `--`, npm takes options such as --help for itself.
      if (rest.length > 0 && rest[0] !== '--') return 'arguments of an npm script must follow `--`'
      return undefined
    }
    case 'npx': {
      const [target, ...rest] = args
      if (!target || !packages.has(target)) return `npx ${target}: not a dependency in package.json, so npx would download it`
      if (target !== 'bun') return undefined
      if (rest[0] === 'run') return scripts.has(rest[1]!) ? undefined : `package.json has no "${rest[1]}" script`
      if (rest[0]?.startsWith('-')) return undefined
      return rest[0] && existsSync(path.join(root, rest[0])) ? undefined : `npx bun ${rest[0]}: no such file`
    }
    case 'bash':
      return args[0] && existsSync(path.join(root, args[0])) ? undefined : `bash ${args[0]}: no such file`
    case 'bun':
    case 'bunx':
      return `${program} is not on the PATH after npm install: use npm run <script> or npx bun`
    default:
      // A wrapper of the repository's (.ci/no-leftovers): it runs its arguments as a command.
      if (program?.startsWith('.ci/')) {
        if (!existsSync(path.join(root, program))) return `${program}: no such file`
        return args.length > 0 ? problemWith(args.join(' ')) : undefined
      }
      return OUTSIDE_PROGRAMS.has(program!) ? undefined : `${program}: not a known command`
  }
}

describe('README commands', () => {
  const commands = readmeCommands()

  test('are found: the set-up lines first, and the commands table', () => {
    expect(commands.slice(0, 4)).toEqual(['npm install', 'npm start', 'npm install', 'npm test'])
    for (const command of [
      'npm run migrate:latest',
      'npm run migrate:make -- <name>',
      'npm run lint',
      'npm run db:import-sqlite -- --dry-run --uploads old-gearbox/uploads gearbox.db',
    ]) {
      expect(commands).toContain(command)
    }
  })

  test('each runs as written right after npm install: an existing script or file, arguments after --', () => {
    const problems = commands.map((command) => [command, problemWith(command)]).filter(([, problem]) => problem)
    expect(problems).toEqual([])
  })

  test('the check catches the mistakes it is there for', () => {
    expect(problemWith('bun run migrate:latest')).toContain('not on the PATH')
    expect(problemWith('npm run no-such-script')).toContain('no "no-such-script" script')
    expect(problemWith('npm run db:import-sqlite --help')).toContain('follow `--`')
    expect(problemWith('npx bun scripts/no-such-file.ts')).toContain('no such file')
    expect(problemWith('npx some-package')).toContain('not a dependency')
    expect(problemWith('.ci/no-leftovers bun test test/readme.test.ts')).toContain('not on the PATH')
    expect(problemWith('.ci/no-such-wrapper npm test')).toContain('no such file')
    expect(problemWith('DATABASE_URL=postgres://x/y npm run migrate:list')).toBeUndefined()
  })
})

describe('the requirements the README states', () => {
  // The oldest Node.js of each line that package.json's engines allow.
  const OLDEST = ['20.19.0', '22.12.0']

  test('match package.json: Node.js 20.19+ (or 22.12+)', () => {
    expect(readme).toContain('You need Node.js 20.19+ (or 22.12+) and npm')
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0')
    for (const version of OLDEST) expect(Bun.semver.satisfies(version, pkg.engines.node)).toBe(true)
    expect(Bun.semver.satisfies('20.18.0', pkg.engines.node)).toBe(false)
  })

  test('hold for every installed package: none declares engines those versions miss (npm would warn EBADENGINE)', () => {
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'))
    const refusing: string[] = []
    for (const [name, entry] of Object.entries<{ engines?: { node?: string }; optional?: boolean }>(lock.packages)) {
      const range = entry.engines?.node
      // Optional packages for other platforms are never installed here.
      if (!name || !range || entry.optional) continue
      for (const version of OLDEST) if (!Bun.semver.satisfies(version, range)) refusing.push(`${name} (${range}) refuses ${version}`)
    }
    expect(refusing).toEqual([])
  })
})

describe('the Configuration table', () => {
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1))
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))

  test('has one well-formed row (variables, default, meaning) for every variable the program reads', () => {
    for (const row of rows) expect(row, row).toMatch(/^\| `[A-Z][A-Z0-9_]*`(, `[A-Z][A-Z0-9_]*`)* \|[^|]*\| [^|]+ \|$/)
    const documented = rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!))
    const read = Object.keys(envSchema.shape)
    expect(read.filter((name) => !documented.includes(name))).toEqual([])
    // Beside those, only the standard libpq variables postgres.js reads itself and the test run's own.
    expect(documented.filter((name) => !read.includes(name) && !name.startsWith('PG') && !name.startsWith('TEST_'))).toEqual([])
  })
})
