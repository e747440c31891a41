import { type ParseArgsConfig, parseArgs } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * The options npm took for itself. `npm run <script> --dry-run` passes the script only what
 * follows `--`; options before it become npm_config_* variables (npm even reads `--replace`
 * as `--replace-registry-host`), so the script would run without them. Returns the options
 * found there and not on the command line.
 */
export function optionsTakenByNpm(names: string[], argv: string[], env: Record<string, string | undefined> = process.env): string[] {
  if (!env.npm_lifecycle_event) return []
  return names.filter((name) => {
    const key = `npm_config_${name.replaceAll('-', '_')}`
    const negated = name.startsWith('no-') && env[`npm_config_${name.slice(3).replaceAll('-', '_')}`] === ''
    const taken = env[key] !== undefined || negated || (name === 'replace' && env.npm_config_replace_registry_host !== undefined)
    return taken && !argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  })
}

/** An exit status of 2 after `error: <message>` and a pointer to --help, on stderr. */
export function usageError(message: string): number {
  process.stderr.write(`error: ${message}\nRun with --help for usage.\n`)
  return 2
}

/**
 * The command line of a `db:*` script (`options` must hold `-h/--help`), given on the command line
 * or (run as `npm run <script> --opt` without `--`) taken by npm. `--help` (usage on stdout)
 * and `--dry-run` are honoured either way, since neither writes; any other option npm kept
 * refuses the run, so it never goes ahead without an option the user gave. Returns the exit
 * status to stop with (0 after the usage, 2 for bad arguments), or the parsed arguments.
 */
export function parseCommandLine<O extends Options & { help: { type: 'boolean'; short: 'h' } }>(script: string, argv: string[], options: O, usage: string) {
  let args: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options })
  } catch (error) {
    return usageError((error as Error).message)
  }
  const taken = optionsTakenByNpm(Object.keys(options), argv)
  const refused = taken.filter((n) => n !== 'help' && n !== 'dry-run')
  if (!taken.includes('help') && refused.length > 0) {
    const flags = refused.map((n) => `--${n}`).join(' ')
    return usageError(
      `npm kept ${flags} for itself, so it never reached the script; nothing was written. Put the options after --: npm run ${script} -- ${flags} ...`,
    )
  }
  if ((args.values as { help?: boolean }).help || taken.includes('help')) {
    process.stdout.write(usage)
    return 0
  }
  return { values: args.values, positionals: args.positionals, dryRun: taken.includes('dry-run') }
}
