// No Docker engine runs here, so the compose files and the Dockerfile are checked for their
// wiring instead: what they name must exist in the code, and the services must connect.
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../../src/config'

const root = `${import.meta.dir}/../..`
const read = (file: string) => Bun.file(`${root}/${file}`).text()
const compose = async (file: string) => Bun.YAML.parse(await read(file)) as any

describe('docker-compose.yml', () => {
  test('GearBox reaches the postgres service with the credentials postgres is given', async () => {
    const { services } = await compose('docker-compose.yml')
    const pg = services.postgres.environment
    const url = new URL(services.gearbox.environment.DATABASE_URL.replaceAll('${POSTGRES_PASSWORD:-gearbox}', 'gearbox'))
    expect(url.hostname).toBe('postgres')
    expect(url.port).toBe('5432')
    expect(url.username).toBe(pg.POSTGRES_USER)
    expect(url.password).toBe(pg.POSTGRES_PASSWORD.replace('${POSTGRES_PASSWORD:-gearbox}', 'gearbox'))
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`)
    expect(services.gearbox.depends_on.postgres.condition).toBe('service_healthy')
  })

  test('its environment is a valid GearBox configuration and the published port is PORT', async () => {
    const { services } = await compose('docker-compose.yml')
    // Compose fills `${VAR:-default}` from the shell; the defaults are what a plain `up` gets.
    const defaults = Object.entries<string>(services.gearbox.environment).map(([k, v]) => [k, v.replace(/\$\{\w+:-([^}]*)\}/g, '$1')])
    const env = { ...Object.fromEntries(defaults), DATABASE_URL: 'postgres://gearbox:gearbox@postgres:5432/gearbox' }
    const config = loadConfig(env)
    expect(config.gearboxUrl).toBe(`http://localhost:${config.port}`)
    expect(config.database.kind).toBe('postgres')
    expect(services.gearbox.ports).toEqual([`${config.port}:${config.port}`])
    expect(config.uploadDir.startsWith(services.gearbox.volumes[0].split(':')[1])).toBe(true)
  })
})

describe('docker-compose.dev.yml', () => {
  test('publishes PostgreSQL on loopback only, with the credentials its comments tell you to use', async () => {
    const text = await read('docker-compose.dev.yml')
    const { services } = Bun.YAML.parse(text) as any
    expect(services.postgres.ports).toEqual(['127.0.0.1:5432:5432'])
    const env = services.postgres.environment
    expect(text).toContain(`postgres://${env.POSTGRES_USER}:${env.POSTGRES_PASSWORD}@127.0.0.1:5432/${env.POSTGRES_DB}`)
  })
})

describe('Dockerfile', () => {
  test('copies everything the server imports and starts the package start script', async () => {
    const dockerfile = await read('Dockerfile')
    const pkg = JSON.parse(await read('package.json'))
    expect(dockerfile).toContain('COPY package.json package-lock.json ./')
    for (const dir of ['migrations', 'src']) expect(dockerfile).toMatch(new RegExp(`COPY ${dir} `))
    expect(dockerfile).toContain('CMD ["npm", "start"]')
    expect(pkg.scripts.start).toBe('bun src/server.ts')
    // Production installs omit devDependencies, so what `npm start` runs must be a dependency.
    expect(pkg.dependencies.bun).toBeDefined()
    expect(dockerfile).toContain('/health/ready')
  })

  test('the data volume is writable by the user the server runs as', async () => {
    const lines = (await read('Dockerfile')).split('\n')
    const at = (line: string) => lines.findIndex((l) => l.trim() === line)
    const volume = at('VOLUME ["/data"]')
    expect(volume).toBeGreaterThan(-1)
    expect(lines.find((l) => l.startsWith('ENV GEARBOX_DATA_DIR='))).toContain('GEARBOX_DATA_DIR=/data ')
    // A named volume takes its owner from the image's directory, so it must be made before VOLUME.
    expect(at('RUN mkdir -p /data && chown node:node /data')).toBeGreaterThan(-1)
    expect(at('RUN mkdir -p /data && chown node:node /data')).toBeLessThan(volume)
    expect(at('USER node')).toBeGreaterThan(volume)
  })
})
