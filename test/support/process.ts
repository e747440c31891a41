/**
 * Reads `stream` (a child's stdout) until what it printed matches `pattern`; returns all of it.
 * The stream is left open, not cancelled, so the child can go on writing to it.
 */
export async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = stream.getReader()
  let seen = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the process ended before printing ${pattern}: ${seen}`)
      seen += new TextDecoder().decode(value)
      if (pattern.test(seen)) return seen
    }
  } finally {
    reader.releaseLock()
  }
}

const root = new URL('../..', import.meta.url).pathname

/**
 * Runs a package.json script as a user does (`bun run <script> -- <args>`); DATABASE_URL is
 * only what `env` says. NODE_ENV=production: under test kysely-ctl's output is silenced.
 */
export async function runScript(script: string, args: string[], env: Record<string, string>) {
  const child = Bun.spawn([process.execPath, 'run', script, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [exitCode, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  // `bun run`'s own lines around every script: "$ bun scripts/..." and 'error: script "..." exited
  // with code 1' (npm run adds neither to stderr). Anything else is the script's.
  const ours = stderr.split('\n').filter((l) => l && !l.startsWith('$ ') && !/^error: script "[^"]*" exited with code/.test(l))
  return { exitCode, stdout, stderr: ours }
}

/** Everything `stream` still prints until it ends (after waitForLine, which leaves it readable). */
export async function readRest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let text = ''
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value)
  return text
}

/**
 * Runs `argv` in a mount namespace of its own (unshare(1): as root, or as an ordinary user
 * through a user namespace) in which `dir` is a new tmpfs of `size` (`1m`, `64k`): a disk that
 * fills up, seen by that process only. Resolves with its exit code and output.
 */
export async function runOnSmallDisk(dir: string, size: string, argv: string[], env: Record<string, string>) {
  const mountThenRun = 'mount -t tmpfs -o size="$0" tmpfs "$1" && shift && exec "$@"'
  const child = Bun.spawn(['unshare', '--map-root-user', '--mount', 'sh', '-c', mountThenRun, size, dir, ...argv], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  return { code, stdout, stderr }
}
