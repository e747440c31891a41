import { createHash } from 'node:crypto'
import { createReadStream, type Stats } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { appliedMigrations } from '../db/migration-status'
import { fsProblem } from '../file-checks'
import { type Output, Progress } from '../import/report'
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type ImageEntry, type Manifest, sha256, type TableEntry, writeArchive } from './archive'
import { applicationTables, type NamedImage, namedImages, pinSettings, sequencePositions, tableChecksum } from './catalog'
import { type Engine, kyselyInSession, type Session } from './engine'

export interface BackupOptions {
  engine: Engine
  uploadDir: string
  file: string
  /** Progress goes here; a terminal gets a bar. */
  progress: Output & { isTTY?: boolean }
}

export interface BackupResult {
  manifest: Manifest
  /** Size of the backup file, bytes. */
  bytes: number
  ms: number
  /** Images the backed-up rows name that are not in the upload directory (so not in the backup). */
  missingImages: NamedImage[]
  /** Entries of the upload directory that are not images: symbolic links to nothing. */
  skipped: string[]
}

/** The upload directory cannot be read, or is not there while rows name images in it; no file was written. */
export class UploadDirError extends Error {}

/**
 * Writes one backup file of the database and the uploaded images (see archive.ts). Every
 * table is read in one REPEATABLE READ READ ONLY transaction, so the backup is one
 * consistent snapshot while a server keeps writing. Images are listed afterwards, so every
 * image a backed-up row names (written before its row) is in it; the ones that are not there
 * are returned (missingImages) and the backup goes on, the rows being worth keeping. Throws
 * when the database holds no GearBox schema, and UploadDirError when the upload directory
 * cannot be read or does not exist while rows name images; a failed backup leaves no file.
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const started = performance.now()
  const progress = new Progress(options.progress, options.progress.isTTY ?? false)
  const tables = new Map<string, Uint8Array>()
  const snapshot = await options.engine.transaction('snapshot', async (session) => {
    await pinSettings(session)
    const migrations = (await appliedMigrations(kyselyInSession(session))).map((m) => m.name)
    if (migrations.length === 0) throw new Error(`${options.engine.name} holds no GearBox schema (no applied migrations); nothing to back up`)
    const [version] = await session.query<{ server: string }>('select version() as server')
    const entries: TableEntry[] = []
    const shapes = await applicationTables(session)
    for (const shape of shapes) entries.push(await copyTable(session, shape, tables, progress))
    return { migrations, server: version!.server, tables: entries, sequences: await sequencePositions(session), named: await namedImages(session, shapes) }
  })
  const imagesStarted = performance.now()
  const { images, skipped } = await listImages(options.uploadDir, snapshot.named.length)
  const listed = new Set(images.map((i) => i.name))
  const missingImages = snapshot.named.filter((n) => !listed.has(n.name))
  progress.step(`images (${images.length})`, performance.now() - imagesStarted)
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    source: { database: options.engine.name, server: snapshot.server },
    migrations: snapshot.migrations,
    tables: snapshot.tables,
    sequences: snapshot.sequences,
    images,
  }
  const writeStarted = performance.now()
  await writeArchive(options.file, manifest, tables, options.uploadDir)
  progress.step('compress and write', performance.now() - writeStarted)
  return { manifest, bytes: (await stat(options.file)).size, ms: performance.now() - started, missingImages, skipped }
}

async function copyTable(
  session: Session,
  shape: Awaited<ReturnType<typeof applicationTables>>[number],
  into: Map<string, Uint8Array>,
  progress: Progress,
): Promise<TableEntry> {
  const checksum = await tableChecksum(session, shape)
  progress.start(shape.name, checksum.rows)
  const data = await session.copyOut(shape)
  progress.advance(shape.name, checksum.rows)
  progress.finish(shape.name)
  into.set(shape.name, data)
  return { name: shape.name, columns: shape.columns, orderBy: shape.orderBy, ...checksum, sha256: sha256(data), bytes: data.length }
}

/**
 * Every file the image service stored (plain files; dot-files are not images), and the names
 * of symbolic links to nothing, which are skipped. Throws UploadDirError when `uploadDir`
 * cannot be read, or does not exist while `named` (> 0) images are named by rows.
 */
async function listImages(uploadDir: string, named: number): Promise<{ images: ImageEntry[]; skipped: string[] }> {
  let names: string[]
  try {
    names = await readdir(uploadDir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && named === 0) return { images: [], skipped: [] }
    if (code === 'ENOENT') throw new UploadDirError(`there is no folder ${uploadDir}, and rows name ${named} image(s) in it`)
    if (code === 'ENOTDIR') throw new UploadDirError(`${uploadDir} is not a folder`)
    throw new UploadDirError(`cannot read ${uploadDir}: ${fsProblem(error)}`)
  }
  const images: ImageEntry[] = []
  const skipped: string[] = []
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    const file = path.join(uploadDir, name)
    let info: Stats
    try {
      info = await stat(file)
    } catch (error) {
      // Listed, yet nothing there: a symbolic link to nothing (or a file removed since).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        skipped.push(name)
        continue
      }
      throw new UploadDirError(`cannot read ${file}: ${fsProblem(error)}`)
    }
    if (!info.isFile()) continue
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(file)) hash.update(chunk)
    images.push({ name, bytes: info.size, sha256: hash.digest('hex') })
  }
  return { images, skipped }
}
