import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import * as tar from 'tar-stream'
import type { SequencePosition, TableChecksum } from './catalog'

/*
 * A backup is a gzip-compressed tar file (tar-stream, zlib):
 *   manifest.json         what the rest must be: schema version, tables, checksums, images
 *   tables/<table>.copy   the rows in key order, PostgreSQL COPY text format (UTC, ISO dates,
 *                         shortest exact doubles), which every PostgreSQL since 8 reads
 *   images/<file>         the uploaded images, byte for byte
 * The manifest comes first, so a restore knows what to expect before it reads any data.
 */

export const BACKUP_FORMAT = 'gearbox-backup'
export const BACKUP_FORMAT_VERSION = 1

export interface TableEntry extends TableChecksum {
  name: string
  columns: string[]
  /** The ORDER BY the rows were written in (and the checksum was taken in). */
  orderBy: string[]
  /** SHA-256 of tables/<name>.copy, hex. */
  sha256: string
  bytes: number
}

export interface ImageEntry {
  name: string
  bytes: number
  sha256: string
}

export interface Manifest {
  format: typeof BACKUP_FORMAT
  formatVersion: number
  createdAt: string
  /** The database it came from (no password) and its `version()`. */
  source: { database: string; server: string }
  /** Applied migrations, in order: the schema version. */
  migrations: string[]
  tables: TableEntry[]
  sequences: SequencePosition[]
  images: ImageEntry[]
}

/** The file is not a GearBox backup, or it is damaged or truncated. */
export class BackupFileError extends Error {}

/** The staging folder could not be written (a full disk, say): the backup file is not at fault. The message names the folder. */
export class StagingError extends Error {}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

const tableFile = (table: string) => `tables/${table}.copy`
const imageFile = (image: string) => `images/${image}`

/**
 * Writes the archive to `file.partial-<pid>-<random>` and renames it to `file` only when complete, so a
 * backup that fails or is killed never leaves a file that looks whole, and two backups to the
 * same file at once never write into one partial file (the last to finish is `file`). Throws
 * an Error naming `file` when it cannot be written (a full disk, say); the partial file is removed.
 */
export async function writeArchive(file: string, manifest: Manifest, tables: Map<string, Uint8Array>, imageDir: string): Promise<void> {
  const partial = `${file}.partial-${process.pid}-${randomBytes(4).toString('hex')}`
  const pack = tar.pack()
  const written = pipeline(pack, createGzip({ level: 6 }), createWriteStream(partial))
  // The file can fail (a full disk) while an entry is being added: its rejection is handled at
  // once, or it surfaces as an unhandled one; `await written` below still throws it.
  let writeFailure: Error | undefined
  written.catch((error: Error) => {
    writeFailure = error
  })
  try {
    const add = (name: string, data: Uint8Array) =>
      new Promise<void>((resolve, reject) => pack.entry({ name }, Buffer.from(data), (e) => (e ? reject(e) : resolve())))
    await add('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)))
    for (const t of manifest.tables) await add(tableFile(t.name), tables.get(t.name)!)
    for (const image of manifest.images) {
      const entry = pack.entry({ name: imageFile(image.name), size: image.bytes })
      await pipeline(createReadStream(path.join(imageDir, image.name)), entry)
    }
    pack.finalize()
    await written
    await rename(partial, file)
  } catch (error) {
    pack.destroy()
    await written.catch(() => {})
    await rm(partial, { force: true })
    if (writeFailure) throw new Error(`cannot write ${file}: ${writeFailure.message}; no backup was made`, { cause: writeFailure })
    throw error
  }
}

export interface ArchiveContents {
  manifest: Manifest
  tables: Map<string, Uint8Array>
}

/**
 * Reads and checks the whole archive before anything is written to a database: the
 * manifest first, every table file against its SHA-256 (kept in memory), every image
 * against its SHA-256 (written to `stagingDir`). Throws BackupFileError naming what is wrong,
 * or StagingError when `stagingDir` cannot be written.
 */
export async function readArchive(file: string, stagingDir: string): Promise<ArchiveContents> {
  let manifest: Manifest | undefined
  const tables = new Map<string, Uint8Array>()
  const images = new Set<string>()
  const extract = tar.extract()
  const reading = pipeline(createReadStream(file), createGunzip(), extract)
  // The pipeline can fail (a damaged gzip stream) while the loop below is still reading: mark its
  // rejection handled at once, or it surfaces as an unhandled error; the loop or `await reading`
  // reports it as a BackupFileError.
  reading.catch(() => {})
  try {
    for await (const entry of extract) {
      const name = entry.header.name
      if (!manifest) {
        if (name !== 'manifest.json') throw new BackupFileError(`it does not start with manifest.json (found ${name})`)
        manifest = parseManifest((await readAll(entry)).toString('utf8'))
        await mkdir(stagingDir, { recursive: true }).catch((error: Error) => {
          throw new StagingError(`cannot create ${stagingDir}: ${error.message}`)
        })
        continue
      }
      const table = manifest.tables.find((t) => tableFile(t.name) === name)
      const image = manifest.images.find((i) => imageFile(i.name) === name)
      if (table) {
        const data = await readAll(entry)
        if (sha256(data) !== table.sha256) throw new BackupFileError(`${name} does not match its SHA-256 in the manifest`)
        tables.set(table.name, data)
      } else if (image) {
        const hash = createHash('sha256')
        const staged = createWriteStream(path.join(stagingDir, image.name))
        let writeFailure: Error | undefined
        staged.on('error', (error) => {
          writeFailure ??= error
        })
        await pipeline(
          entry,
          async function* (chunks) {
            for await (const chunk of chunks as AsyncIterable<Buffer>) {
              hash.update(chunk)
              yield chunk
            }
          },
          staged,
        ).catch((error: Error) => {
          throw writeFailure ? new StagingError(`cannot write the backup's image ${image.name} into ${stagingDir}: ${writeFailure.message}`) : error
        })
        if (hash.digest('hex') !== image.sha256) throw new BackupFileError(`${name} does not match its SHA-256 in the manifest`)
        images.add(image.name)
      } else {
        throw new BackupFileError(`${name} is not listed in the manifest`)
      }
    }
    await reading
  } catch (error) {
    extract.destroy()
    await reading.catch(() => {})
    if (error instanceof BackupFileError || error instanceof StagingError) throw error
    throw new BackupFileError(error instanceof Error ? error.message : String(error))
  }
  if (!manifest) throw new BackupFileError('it holds no manifest.json')
  const missing = [
    ...manifest.tables.filter((t) => !tables.has(t.name)).map((t) => tableFile(t.name)),
    ...manifest.images.filter((i) => !images.has(i.name)).map((i) => imageFile(i.name)),
  ]
  if (missing.length > 0)
    throw new BackupFileError(
      `it is truncated: ${missing.length} file(s) listed in the manifest are missing (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`,
    )
  return { manifest, tables }
}

async function readAll(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of entry) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function parseManifest(text: string): Manifest {
  let manifest: Manifest
  try {
    manifest = JSON.parse(text)
  } catch {
    throw new BackupFileError('manifest.json is not valid JSON')
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupFileError('manifest.json is not a GearBox backup manifest')
  if (manifest.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new BackupFileError(`it is in backup format ${manifest.formatVersion}; this GearBox reads format ${BACKUP_FORMAT_VERSION}`)
  }
  // Image names become file names: nothing that could leave the upload directory.
  const unsafe = manifest.images.find((i) => path.basename(i.name) !== i.name || i.name.startsWith('.'))
  if (unsafe) throw new BackupFileError(`manifest.json names an image ${JSON.stringify(unsafe.name)}, which is not a plain file name`)
  return manifest
}
