// Loaded once per `bun test` run (bunfig.toml). Without TEST_DATABASE_URL, the run gets its own
// PostgreSQL 16 server from npm, so the real-server suites always run; the URL it gets is the
// one every suite and every child process reads. TEST_DATABASE_URL, when set, wins.
import { afterAll } from 'bun:test'
import { startEmbeddedPostgres } from './embedded-postgres'

if (!process.env.TEST_DATABASE_URL && process.env.CI !== 'true') {
  const server = await startEmbeddedPostgres()
  process.env.TEST_DATABASE_URL = server.url
  process.env.TEST_DATABASE_EMBEDDED = '1'
  // Hooks in a preload file are global: this runs once, after the last test file.
  afterAll(() => server.stop(), 30_000)
}
