import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { NotFoundError } from '../../src/errors'
import { ImageError, placeImages, removeImages, STAGING_DIR } from '../../src/import/images'
import { ImageService } from '../../src/services/image-service'
import { imageBytes, readRejects, realisticRows, runImport, targetState, uploadsBeside, useImportFixture, writeLegacyFile } from '../support/legacy-sqlite'

const fx = useImportFixture()
const uploadDir = () => path.join(fx.dir, 'target-uploads')

/** Realistic rows whose item 2 and candidate 6 name images, plus a file in the folder that nothing names. */
function fileWithImages() {
  const rows = realisticRows()
  rows.thread_candidates![1]!.image_filename = 'duplex.webp'
  writeLegacyFile(fx.file, rows)
  writeFileSync(path.join(uploadsBeside(fx.file), 'orphan.jpg'), 'nobody names me')
  return rows
}

describe('images', () => {
  test('every image a row names is copied under its name and verified; other files are counted and left alone', async () => {
    fileWithImages()
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('imported')
    expect(result.images).toEqual({ referenced: 2, copied: 2, missing: 0, unreferenced: 1, unservable: 0, skipped: false })
    expect(readdirSync(uploadDir()).sort()).toEqual(['duplex.webp', 'stove.png'])
    expect(readFileSync(path.join(uploadDir(), 'stove.png')).equals(imageBytes('stove.png'))).toBe(true)
    expect(readFileSync(path.join(uploadDir(), 'duplex.webp')).equals(imageBytes('duplex.webp'))).toBe(true)
    expect(result.output).toContain('images: 2 of 2 copied to')
    expect(result.output).toContain('1 file(s) in')
    // GearBox serves each under the name its row holds (GET /uploads/:filename).
    const images = new ImageService(uploadDir())
    for (const name of ['stove.png', 'duplex.webp']) {
      const { file, mime } = await images.open(name)
      expect({ name, mime, bytes: Buffer.from(await file.arrayBuffer()).equals(imageBytes(name)) }).toEqual({ name, mime: 'image/png', bytes: true })
    }
  })

  test('an image that is not a png, jpeg or webp is copied and kept, and the summary says GearBox does not serve it', async () => {
    fileWithImages()
    const gif = Buffer.from('GIF89a and the rest of a gif')
    writeFileSync(path.join(uploadsBeside(fx.file), 'duplex.webp'), gif)
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('imported')
    expect(result.images).toMatchObject({ copied: 2, unservable: 1 })
    expect(result.output).toContain('images not png, jpeg or webp (1), moved like the others, but GearBox does not serve them: duplex.webp\n')
    expect(readFileSync(path.join(uploadDir(), 'duplex.webp')).equals(gif)).toBe(true)
    await expect(new ImageService(uploadDir()).open('duplex.webp')).rejects.toThrow(NotFoundError)
  })

  test('a missing image is a problem: refused, listed with table, id and name, nothing written', async () => {
    fileWithImages()
    rmSync(path.join(uploadsBeside(fx.file), 'duplex.webp'))
    const before = await targetState(fx.target.db)
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('refused')
    expect(result.problems).toEqual([
      {
        kind: 'missing_image',
        table: 'thread_candidates',
        id: 6,
        column: 'image_filename',
        value: 'duplex.webp',
        message: `no such file in ${uploadsBeside(fx.file)}`,
      },
    ])
    expect(result.output).toContain('Images missing from the uploads folder [missing_image]: 1')
    expect(await targetState(fx.target.db)).toEqual(before)
    expect(existsSync(uploadDir())).toBe(false)
  })

  test('a name that is a path out of the folder is never followed', async () => {
    const rows = realisticRows()
    rows.items![1]!.image_filename = '../gearbox.db'
    writeLegacyFile(fx.file, rows)
    mkdirSync(uploadsBeside(fx.file))
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('refused')
    expect(result.problems.map((p) => [p.kind, p.table, p.id, p.value, p.message])).toEqual([
      ['missing_image', 'items', 2, '../gearbox.db', 'not a plain file name, so not a file in the uploads folder'],
    ])
  })

  test('--skip-invalid keeps a row whose image is missing and writes it to the rejects file', async () => {
    fileWithImages()
    rmSync(path.join(uploadsBeside(fx.file), 'stove.png'))
    const rejectsPath = path.join(fx.dir, 'rejects.jsonl')
    const result = await runImport(fx.file, fx.target, { skipInvalid: true, rejectsPath })
    expect(result.status).toBe('imported')
    expect(result.images).toMatchObject({ referenced: 2, copied: 1, missing: 1 })
    const item = await fx.target.db.selectFrom('items').select('image_filename').where('id', '=', 2).executeTakeFirstOrThrow()
    expect(item.image_filename).toBe('stove.png')
    const lines = readRejects(rejectsPath)
    expect(lines).toEqual([
      expect.objectContaining({ table: 'items', id: 2, kept: true, reasons: [expect.objectContaining({ kind: 'missing_image', value: 'stove.png' })] }),
    ])
    expect(result.output).toContain('1 row(s) kept without their image, written to')
    expect(readdirSync(uploadDir())).toEqual(['duplex.webp'])
  })

  test('with nothing left out, the rejects file is written empty, not left as an earlier run wrote it', async () => {
    fileWithImages()
    const rejectsPath = path.join(fx.dir, 'rejects.jsonl')
    writeFileSync(rejectsPath, '{"table":"items","id":2,"from":"an earlier run"}\n')
    const result = await runImport(fx.file, fx.target, { skipInvalid: true, rejectsPath })
    expect(result.status).toBe('imported')
    expect(readFileSync(rejectsPath, 'utf8')).toBe('')
  })

  test('all or nothing with the database: a refused target gets no image, and nothing stays staged', async () => {
    fileWithImages()
    await fx.target.db.insertInto('categories').values({ name: 'Mine' }).execute()
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('target-not-empty')
    // A server target refuses before anything is staged; the embedded one after staging, which it clears.
    expect(existsSync(uploadDir()) ? readdirSync(uploadDir()) : []).toEqual([])
  })

  test('a file already there with other content is refused; with the same content it is kept', async () => {
    fileWithImages()
    mkdirSync(uploadDir())
    writeFileSync(path.join(uploadDir(), 'stove.png'), 'another image')
    const refused = await runImport(fx.file, fx.target)
    expect(refused.status).toBe('refused')
    expect(refused.output).toContain(`${path.join(uploadDir(), 'stove.png')} already exists with other content`)
    expect(readFileSync(path.join(uploadDir(), 'stove.png'), 'utf8')).toBe('another image')
    expect(await fx.target.db.selectFrom('items').select('id').execute()).toEqual([])

    writeFileSync(path.join(uploadDir(), 'stove.png'), imageBytes('stove.png'))
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
    expect(readdirSync(uploadDir()).sort()).toEqual(['duplex.webp', 'stove.png'])
  })

  test('a run removes what an earlier, killed run staged', async () => {
    fileWithImages()
    mkdirSync(path.join(uploadDir(), STAGING_DIR), { recursive: true })
    writeFileSync(path.join(uploadDir(), STAGING_DIR, 'half.png'), 'half a')
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
    expect(readdirSync(uploadDir()).sort()).toEqual(['duplex.webp', 'stove.png'])
  })

  test('--no-images moves the data alone and says so', async () => {
    fileWithImages()
    const result = await runImport(fx.file, fx.target, { uploads: undefined, noImages: true })
    expect(result.status).toBe('imported')
    expect(result.images).toMatchObject({ referenced: 2, skipped: true })
    expect(result.output).toContain('images: not copied (--no-images); 2 image(s) named by the rows are not moved')
    expect(existsSync(uploadDir())).toBe(false)
  })
})

describe('putting staged images in place', () => {
  // Between the check before staging and the placement right before the commit (a restore waits
  // for table locks meanwhile) another file may take the name: it is never replaced, and a
  // failed run removes only what it put there itself.
  const hash = (bytes: string) => createHash('sha256').update(bytes).digest('hex')
  const staged = (names: Record<string, string>) => {
    const staging = path.join(uploadDir(), STAGING_DIR)
    mkdirSync(staging, { recursive: true })
    for (const [name, bytes] of Object.entries(names)) writeFileSync(path.join(staging, name), bytes)
    return new Map(Object.entries(names).map(([name, bytes]) => [name, hash(bytes)]))
  }

  test('a file of other content that took the name meanwhile is refused and left as it is', () => {
    const files = staged({ 'a.png': 'ours a', 'b.png': 'ours b' })
    writeFileSync(path.join(uploadDir(), 'b.png'), 'theirs')
    const placed: string[] = []
    expect(() => placeImages(['a.png', 'b.png'], files, uploadDir(), placed)).toThrow(ImageError)
    expect(readFileSync(path.join(uploadDir(), 'b.png'), 'utf8')).toBe('theirs')
    expect(placed).toEqual(['a.png'])
    removeImages(placed, uploadDir())
    expect(readdirSync(uploadDir())).toEqual(['b.png'])
  })

  test('the same image that appeared meanwhile stays when the run fails: only what this run created is removed', () => {
    const files = staged({ 'a.png': 'ours a' })
    writeFileSync(path.join(uploadDir(), 'a.png'), 'ours a')
    const placed: string[] = []
    placeImages(['a.png'], files, uploadDir(), placed)
    expect(placed).toEqual([])
    removeImages(placed, uploadDir())
    expect(readFileSync(path.join(uploadDir(), 'a.png'), 'utf8')).toBe('ours a')
  })
})
