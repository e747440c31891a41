import { afterAll, onTestFinished } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const remove = (dir: string) => rmSync(dir, { recursive: true, force: true })
const make = (name: string) => mkdtempSync(path.join(tmpdir(), `gearbox-${name}-`))

/**
 * A new empty directory in the temporary directory (TMPDIR), gearbox-<name>-XXXXXX, removed
 * with everything in it when the test that calls this ends, passed or failed (after its
 * `finally` blocks and afterEach hooks). Only inside a test: in a hook, use useTempDir.
 */
export function tempDir(name: string): string {
  const dir = make(name)
  onTestFinished(() => remove(dir))
  return dir
}

/**
 * For a file's or a describe block's tests that share a directory: call this in its body;
 * the directory is made when the returned function is first called, and removed after the
 * block's last test. Hooks run in the order they were declared: declare this after an
 * afterAll that stops a process still writing in the directory.
 */
export function useTempDir(name: string): () => string {
  let dir: string | undefined
  afterAll(() => {
    if (dir) remove(dir)
    dir = undefined
  })
  return () => (dir ??= make(name))
}
