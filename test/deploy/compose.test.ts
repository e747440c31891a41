// No Docker engine runs here, so the compose files and the Dockerfile are checked for their
// wiring instead: what they name must exist in the code, and the services must connect.
// Not run here: building the image, `docker compose up`, `docker stop` on a container.
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { loadConfig } from '../../src/config'

const root = `${import.meta.dir}/../..`
const read = (file: string) => Bun.file(`${root}/${file}`).text()
const pkg = JSON.parse(await read('package.json'))

/** Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}` (an unset or empty VAR is an error). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    const value = env[name]
    if (value) return value
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`)
    return op === '-' ? (arg ?? '') : ''
  })
}
const compose = async (file: string, env: Record<string, string> = {}) => Bun.YAML.parse(interpolate(await read(file), env)) as any

describe('docker-compose.yml', () => {
  const env = { POSTGRES_PASSWORD: 'a-real-password' }

  test('PostgreSQL 16, the production target', async () => {
    expect((await compose('docker-compose.yml', env)).services.postgres.image).toBe('postgres:16')
  })

  test('refuses to start without POSTGRES_PASSWORD: no default password', async () => {
    await expect(compose('docker-compose.yml')).rejects.toThrow('required variable POSTGRES_PASSWORD is missing a value: set POSTGRES_PASSWORD')
    expect(await read('docker-compose.yml')).not.toContain('POSTGRES_PASSWORD:-')
  })

  test('GearBox reaches the postgres service with the credentials postgres is given', async () => {
    const { services } = await compose('docker-compose.yml', env)
    const pg = services.postgres.environment
    const url = new URL(services.gearbox.environment.DATABASE_URL)
    expect(url.hostname).toBe('postgres')
    expect(url.port).toBe('5432')
    expect(url.username).toBe(pg.POSTGRES_USER)
    expect(url.password).toBe('a-real-password')
    expect(pg.POSTGRES_PASSWORD).toBe('a-real-password')
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`)
    expect(services.gearbox.depends_on.postgres.condition).toBe('service_healthy')
  })

  test('its environment is a valid GearBox configuration and the published port is PORT', async () => {
    const { services } = await compose('docker-compose.yml', env)
    const config = loadConfig(services.gearbox.environment)
    expect(config.gearboxUrl).toBe(`http://localhost:${config.port}`)
    expect(config.database.kind).toBe('postgres')
    expect(services.gearbox.ports).toEqual([`${config.port}:${config.port}`])
    expect(config.uploadDir.startsWith(services.gearbox.volumes[0].split(':')[1])).toBe(true)
  })

  test('docker stop: an init as PID 1 with Bun its direct child, and time to finish requests before SIGKILL', async () => {
    const { gearbox } = (await compose('docker-compose.yml', env)).services
    expect(gearbox.init).toBe(true)
    const config = loadConfig(gearbox.environment)
    expect(Number(gearbox.stop_grace_period.replace(/s$/, ''))).toBeGreaterThan(config.shutdownTimeoutSeconds)
  })
})

describe('docker-compose.dev.yml', () => {
  test('PostgreSQL 16 on loopback, not on 5432 (a local server may have it), with the URLs its comments give', async () => {
    const text = await read('docker-compose.dev.yml')
    const { services } = Bun.YAML.parse(text) as any
    expect(services.postgres.image).toBe('postgres:16')
    const [host, hostPort, containerPort] = services.postgres.ports[0].split(':')
    expect([host, containerPort]).toEqual(['127.0.0.1', '5432'])
    expect(hostPort).not.toBe('5432')
    const env = services.postgres.environment
    expect(text).toContain(`DATABASE_URL=postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@127.0.0.1:${hostPort}/${env.POSTGRES_DB}`)
    expect(text).toContain(`TEST_DATABASE_URL=postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@127.0.0.1:${hostPort}/postgres`)
  })
})

describe('Dockerfile', () => {
  const instructions = async () =>
    (await read('Dockerfile'))
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))

  test('the official Bun image, and Bun itself as the command: the signal reaches the server', async () => {
    const lines = await instructions()
    expect(lines[0]).toBe('FROM oven/bun:1')
    expect(lines.at(-1)).toBe('CMD ["bun", "src/server.ts"]')
    // The same program `npm start` runs (which execs it, so a signal to npm reaches it).
    expect(pkg.scripts.start).toBe('exec bun src/server.ts')
    expect(lines.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/health/ready')
  })

  test('every migrate:* and db:* command can run in the image: its program is a production dependency, its files are copied', async () => {
    const lines = await instructions()
    const install = lines.find((l) => l.startsWith('RUN bun install'))!
    expect(install).toContain('--production')
    expect(install).toContain('--frozen-lockfile')
    const copied = lines.filter((l) => l.startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1))
    const commands = Object.entries(pkg.scripts as Record<string, string>).filter(([name]) => /^(migrate|db):/.test(name))
    expect(commands.length).toBeGreaterThanOrEqual(5)
    for (const [name, command] of commands) {
      const words = command.split(/\s+/).filter((w) => !w.startsWith('-'))
      expect(words[0], name).toBe('bun')
      const target = words[1] ?? ''
      if (target.endsWith('.ts')) {
        expect(copied, name).toContain(target.split('/')[0] ?? '')
        continue
      }
      // A package binary (its path in node_modules/.bin, which the image's install makes too):
      // the package that provides it must be a production dependency.
      expect(target, name).toStartWith('node_modules/.bin/')
      const binary = path.basename(target)
      const provider = Object.keys(pkg.dependencies).find((dep) => {
        const bin = JSON.parse(readFileSync(`${root}/node_modules/${dep}/package.json`, 'utf8')).bin
        return typeof bin === 'string' ? dep === binary : bin && binary in bin
      })
      expect(provider, `${name}: "${target}" must come from a production dependency`).toBeDefined()
    }
    for (const file of ['kysely.config.ts', 'tsconfig.json', 'migrations', 'src', 'scripts']) expect(copied).toContain(file)
  })

  test("the image's install applies patches/ as npm's does: patch-package is a production dependency, the patches are copied first", async () => {
    const lines = await instructions()
    expect(pkg.scripts.postinstall).toBe('patch-package')
    expect(pkg.dependencies['patch-package']).toBeDefined()
    const install = lines.findIndex((l) => l.startsWith('RUN bun install'))
    expect(lines.indexOf('COPY patches ./patches')).toBeGreaterThan(-1)
    expect(lines.indexOf('COPY patches ./patches')).toBeLessThan(install)
    // Each patch is made for one version (postgres+3.4.9.patch): the dependency is pinned to it.
    const patches = readdirSync(`${root}/patches`)
    expect(patches.length).toBeGreaterThan(0)
    for (const file of patches) {
      const [, name, version] = /^(.+)\+([^+]+)\.patch$/.exec(file) ?? []
      expect(pkg.dependencies[name ?? ''], file).toBe(version)
    }
  })

  test('the data volume is writable by the user the server runs as', async () => {
    const lines = await instructions()
    const volume = lines.indexOf('VOLUME ["/data"]')
    expect(volume).toBeGreaterThan(-1)
    expect(lines.find((l) => l.startsWith('ENV GEARBOX_DATA_DIR='))).toContain('GEARBOX_DATA_DIR=/data ')
    // A named volume takes its owner from the image's directory, so it must be made before VOLUME.
    const chown = lines.indexOf('RUN mkdir -p /data && chown bun:bun /data')
    expect(chown).toBeGreaterThan(-1)
    expect(chown).toBeLessThan(volume)
    expect(lines.indexOf('USER bun')).toBeGreaterThan(volume)
  })
})

describe('.dockerignore', () => {
  test('keeps node_modules, data and secrets out of the build context, and nothing the Dockerfile copies', async () => {
    const ignored = (await read('.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
    for (const entry of ['node_modules', 'data', '.env', '.git']) expect(ignored).toContain(entry)
    const copied = (await read('Dockerfile'))
      .split('\n')
      .filter((l) => l.startsWith('COPY '))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
    for (const file of copied) expect(ignored).not.toContain(file)
  })
})
