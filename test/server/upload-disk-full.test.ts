import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from '../support/ports'
import { readRest, waitForLine } from '../support/process'

const root = path.join(import.meta.dir, '../..')
let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-upload-full-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A PNG of `bytes` bytes: the signature, then random bytes. */
const png = (bytes: number) => {
  const data = new Uint8Array(bytes)
  crypto.getRandomValues(data)
  data.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return data
}

test('an upload the disk cannot hold is a 503 with Retry-After, and leaves no file behind (none served half-written)', async () => {
  const uploads = path.join(dir, 'uploads')
  mkdirSync(uploads)
  const port = freePort()
  // The server runs where the upload folder is a 300 KB tmpfs of its own (unshare: a mount
  // namespace); on SIGTERM the shell stops it, then lists what the folder holds.
  const script =
    'mount -t tmpfs -o size=300k tmpfs "$0" && { bun src/server.ts & pid=$!; trap "kill -TERM $pid" TERM; wait $pid; wait $pid; echo "left: $(ls -A "$0" | tr "\\n" " ")"; }'
  // In a session of its own (setsid), so that a failing test can stop the server with its shell.
  const child = Bun.spawn(['setsid', 'unshare', '--map-root-user', '--mount', 'sh', '-c', script, uploads], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: path.join(dir, 'data'), GEARBOX_UPLOAD_DIR: uploads, PORT: String(port) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    await waitForLine(child.stdout, /listening on/)
    const base = `http://127.0.0.1:${port}`
    const json = { 'content-type': 'application/json' }
    await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: json, body: '{"username":"owner","password":"a long passphrase"}' })
    const cookie = (
      await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: '{"username":"owner","password":"a long passphrase"}' })
    ).headers.get('set-cookie')!
    const headers = { cookie: cookie.split(';')[0]!, origin: base }
    const upload = (bytes: number) => {
      const form = new FormData()
      form.append('file', new Blob([png(bytes)], { type: 'image/png' }), 'a.png')
      return fetch(`${base}/api/images`, { method: 'POST', headers, body: form })
    }
    const first = await upload(200_000)
    expect(first.status).toBe(201)
    const { filename } = (await first.json()) as { filename: string }
    const second = await upload(200_000)
    expect([second.status, second.headers.get('retry-after'), await second.json()]).toEqual([
      503,
      '5',
      { error: { code: 'unavailable', message: 'cannot store the image: the upload folder is out of space (ENOSPC)' } },
    ])
    child.kill('SIGTERM')
    await child.exited
    // Only the first image: the second left nothing, not even its hidden partial file.
    expect((await readRest(child.stdout)).trim().split('\n').at(-1)).toBe(`left: ${filename}`)
  } finally {
    // The whole process group: the shell, and the server it started.
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
}, 60_000)
