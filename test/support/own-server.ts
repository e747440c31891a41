import { chownSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './ports'

const BIN = '/usr/local/bin'

/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl in a temp dir, on a free port), for
 * tests that stop and start the database: never the machine's shared server. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user.
 */
export interface OwnServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string
  start(): Promise<void>
  /** `pg_ctl stop -m fast`: sessions are closed, new connections refused. */
  stop(): Promise<void>
  /** Stops it and removes its directory. */
  destroy(): Promise<void>
}

export async function startOwnServer(): Promise<OwnServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-own-pg-'))
  const asRoot = process.getuid?.() === 0
  const dataDir = path.join(dir, 'data')
  const port = freePort()
  const run = (args: string[]) => output(asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args)
  const server: OwnServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () =>
      run([
        `${BIN}/pg_ctl`,
        '-D',
        dataDir,
        '-w',
        '-l',
        path.join(dir, 'log'),
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        'start',
      ]).then(() => {}),
    stop: () => run([`${BIN}/pg_ctl`, '-D', dataDir, '-w', '-m', 'fast', 'stop']).then(() => {}),
    destroy: async () => {
      await server.stop().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    if (asRoot) chownSync(dir, Number(await output(['id', '-u', 'postgres'])), Number(await output(['id', '-g', 'postgres'])))
    await run([`${BIN}/initdb`, '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
    await server.start()
  } catch (error) {
    await server.destroy()
    throw error
  }
  return server
}

async function output(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${cmd.join(' ')} failed (${code}): ${err || out}`)
  return out.trim()
}
