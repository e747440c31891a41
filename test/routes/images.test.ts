import { describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { MAX_IMAGE_BYTES } from '../../src/services/image-service'
import { bodyOf, useTestApp } from '../support/app'

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0))
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])
const WEBP = new Uint8Array([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBPVP8 ')])

describe('images', () => {
  const t = useTestApp()

  function upload(bytes: Uint8Array, name = 'photo.png', headers = t.auth) {
    const form = new FormData()
    form.append('file', new File([bytes], name))
    return t.app.request('/api/images', { method: 'POST', body: form, headers })
  }

  test.each([
    ['png', PNG, 'image/png'],
    ['jpg', JPEG, 'image/jpeg'],
    ['webp', WEBP, 'image/webp'],
  ] as const)('a %s is stored under a random name and served back byte for byte', async (ext, bytes, mime) => {
    // The name claims .gif: the type must come from the bytes.
    const res = await upload(bytes, 'holiday.gif')
    expect(res.status).toBe(201)
    const { filename } = await bodyOf(res)
    expect(filename).toMatch(new RegExp(`^[0-9a-f]{32}\\.${ext}$`))
    const served = await t.app.request(`/uploads/${filename}`)
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe(mime)
    expect(served.headers.get('content-length')).toBe(String(bytes.byteLength))
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes)
  })

  test('two uploads of the same file get different names', async () => {
    const a = await bodyOf(await upload(PNG))
    const b = await bodyOf(await upload(PNG))
    expect(a.filename).not.toBe(b.filename)
  })

  test('a file that is not an image is a 400 naming the field, whatever its name says', async () => {
    const res = await upload(new TextEncoder().encode('<svg></svg>'), 'evil.png')
    expect(res.status).toBe(400)
    expect(await bodyOf(res)).toEqual({
      error: {
        code: 'validation_failed',
        message: 'file is not a png, jpeg or webp image',
        details: [{ path: 'form.file', message: 'must be png, jpeg or webp' }],
      },
    })
  })

  test('a missing file field is a 400 naming it', async () => {
    const form = new FormData()
    form.append('other', 'x')
    const res = await t.app.request('/api/images', { method: 'POST', body: form, headers: t.auth })
    expect(res.status).toBe(400)
    expect((await bodyOf(res)).error.details[0].path).toBe('form.file')
  })

  test('a form with other fields, or with two files, is a 400 saying which; nothing is stored', async () => {
    const before = readdirSync(t.uploadDir)
    const extra = new FormData()
    extra.append('file', new File([PNG], 'a.png'))
    extra.append('caption', 'x')
    const res = await t.app.request('/api/images', { method: 'POST', body: extra, headers: t.auth })
    expect(res.status).toBe(400)
    expect((await bodyOf(res)).error.details).toEqual([{ path: 'form.caption', message: 'unknown field' }])

    const two = new FormData()
    two.append('file', new File([PNG], 'a.png'))
    two.append('file', new File([PNG], 'b.png'))
    const twice = await t.app.request('/api/images', { method: 'POST', body: two, headers: t.auth })
    expect(twice.status).toBe(400)
    expect((await bodyOf(twice)).error.details).toEqual([{ path: 'form.file', message: 'must be one file, not 2' }])
    expect(readdirSync(t.uploadDir)).toEqual(before)
  })

  test('exactly 5 MB is accepted, one byte more is a 413', async () => {
    const big = new Uint8Array(MAX_IMAGE_BYTES)
    big.set(PNG)
    expect((await upload(big)).status).toBe(201)
    const tooBig = new Uint8Array(MAX_IMAGE_BYTES + 1)
    tooBig.set(PNG)
    const res = await upload(tooBig)
    expect(res.status).toBe(413)
    expect((await bodyOf(res)).error.code).toBe('payload_too_large')
  })

  test('a body far over the limit is refused by the body limit with 413', async () => {
    const res = await upload(new Uint8Array(MAX_IMAGE_BYTES + 200_000))
    expect(res.status).toBe(413)
    expect((await bodyOf(res)).error.code).toBe('payload_too_large')
  })

  test('uploading needs credentials', async () => {
    expect((await upload(PNG, 'a.png', {})).status).toBe(401)
  })

  test('an image under a name the old app gave it (kept by the import) is served, typed by its bytes', async () => {
    writeFileSync(path.join(t.uploadDir, 'Stove 2.png'), JPEG)
    const served = await t.app.request(`/uploads/${encodeURIComponent('Stove 2.png')}`)
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe('image/jpeg')
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(JPEG)
  })

  test('a file in the upload folder that is not an image GearBox takes is not served', async () => {
    writeFileSync(path.join(t.uploadDir, 'notes.txt'), 'not an image')
    writeFileSync(path.join(t.uploadDir, 'page.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    mkdirSync(path.join(t.uploadDir, '.gearbox-import-staging'), { recursive: true })
    writeFileSync(path.join(t.uploadDir, '.gearbox-import-staging', 'staged.png'), PNG)
    writeFileSync(path.join(t.uploadDir, '.hidden.png'), PNG)
    for (const name of ['notes.txt', 'page.svg', '.hidden.png', '.gearbox-import-staging%2Fstaged.png', '.gearbox-import-staging']) {
      const res = await t.app.request(`/uploads/${name}`)
      expect({ name, status: res.status }).toEqual({ name, status: 404 })
    }
  })

  test.each(['..%2Fpackage.json', 'nothere.png', '0123456789abcdef0123456789abcdef.png', 'a.svg'])('/uploads/%s is a 404', async (name) => {
    const res = await t.app.request(`/uploads/${name}`)
    expect(res.status).toBe(404)
    expect((await bodyOf(res)).error.code).toBe('not_found')
  })
})
