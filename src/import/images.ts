import { createHash } from 'node:crypto'
import { copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import { IMAGE_COLUMNS, imageType, isPlainFileName } from '../domain/image'
import type { Problem } from './problems'
import { rowProblem, type SourceTable } from './scan'

/**
 * Where the copies wait until the transaction commits, inside GEARBOX_UPLOAD_DIR (the same
 * file system, so putting one in place is a hard link). Every run first removes what a killed
 * run left here.
 */
export const STAGING_DIR = '.gearbox-import-staging'

/** A row of a legacy table that names an image. */
export interface ImageReference {
  table: SourceTable
  /** Index of the row in table.rows. */
  r: number
  name: string
}

export interface ImageCheck {
  /** Every referenced file found in the uploads folder: name -> SHA-256 (hex). */
  files: Map<string, string>
  /** Those of `files` that are not png, jpeg or webp by content: copied, but GearBox does not serve them. */
  unservable: string[]
  /** One missing_image problem per row whose image is not in the uploads folder. */
  problems: Problem[]
  /** The rows those problems belong to, in the same order. */
  missing: ImageReference[]
  /** Files in the uploads folder that no row names (left where they are). */
  unreferenced: number
}

/** An image cannot be put in place; nothing was written. */
export class ImageError extends Error {}

/** SHA-256 (hex) of a file's bytes, or of the file at a path. */
const sha256 = (file: string | Buffer) =>
  createHash('sha256')
    .update(typeof file === 'string' ? readFileSync(file) : file)
    .digest('hex')
const isFile = (file: string) => statSync(file, { throwIfNoEntry: false })?.isFile() ?? false

/** Every row that names an image (a text value in an image column). */
export function imageReferences(tables: SourceTable[]): ImageReference[] {
  return tables.flatMap((table) => {
    const c = table.spec.columns.findIndex((col) => col.name === IMAGE_COLUMNS[table.spec.name])
    if (c < 0) return []
    return table.rows.flatMap((row, r) => (typeof row[c] === 'string' ? [{ table, r, name: row[c] as string }] : []))
  })
}

/** Looks up every referenced image in the old uploads folder `from` and hashes it. */
export function checkImages(references: ImageReference[], from: string): ImageCheck {
  const files = new Map<string, string>()
  const unservable: string[] = []
  const missing: ImageReference[] = []
  const problems: Problem[] = []
  for (const ref of references) {
    if (files.has(ref.name)) continue
    const plain = isPlainFileName(ref.name)
    const file = path.join(from, ref.name)
    if (plain && isFile(file)) {
      const bytes = readFileSync(file)
      files.set(ref.name, sha256(bytes))
      if (!imageType(bytes)) unservable.push(ref.name)
      continue
    }
    missing.push(ref)
    const message = plain ? `no such file in ${from}` : 'not a plain file name, so not a file in the uploads folder'
    problems.push(rowProblem(ref.table, ref.r, { kind: 'missing_image', column: IMAGE_COLUMNS[ref.table.spec.name]!, value: ref.name, message }))
  }
  const unreferenced = readdirSync(from).filter((name) => !files.has(name) && isFile(path.join(from, name))).length
  return { files, unservable, problems, missing, unreferenced }
}

/**
 * Whether `uploadDir/name` already holds the file whose SHA-256 is `hash` (true: leave it as it
 * is) or nothing (false: put it in place). Throws ImageError when anything else is in the way:
 * a file of other content, or a directory or other non-file.
 */
export function alreadyInPlace(uploadDir: string, name: string, hash: string): boolean {
  const file = path.join(uploadDir, name)
  const info = statSync(file, { throwIfNoEntry: false })
  if (!info) return false
  if (!info.isFile()) throw new ImageError(`${file} is in the way (not a file); move it away first`)
  if (sha256(file) === hash) return true
  throw new ImageError(`${file} already exists with other content; move it away first`)
}

/**
 * Removes whatever an earlier run staged, then copies every file from `from` into the staging
 * folder of `uploadDir` and checks each copy's SHA-256. A file already in `uploadDir` with
 * the same content is left as it is. Returns the names staged; throws ImageError when
 * something else is in the way (see alreadyInPlace).
 */
export function stageImages(files: Map<string, string>, from: string, uploadDir: string): string[] {
  const staging = path.join(uploadDir, STAGING_DIR)
  rmSync(staging, { recursive: true, force: true })
  const staged: string[] = []
  for (const [name, hash] of files) {
    if (alreadyInPlace(uploadDir, name, hash)) continue
    mkdirSync(staging, { recursive: true })
    copyFileSync(path.join(from, name), path.join(staging, name))
    if (sha256(path.join(staging, name)) !== hash) throw new ImageError(`the copy of ${name} differs from the original (SHA-256)`)
    staged.push(name)
  }
  return staged
}

/**
 * Puts the files staged in `staging` (a folder inside `uploadDir`, the same file system) under
 * their names, and checks their SHA-256 (`files`: name -> hex) once more. Called right before
 * the commit. Never replaces anything: each file appears by a hard link, whole or not at all,
 * which fails if the name was taken since the check before staging (alreadyInPlace); then the
 * same image is left as it is and anything else is an ImageError. `placed` collects only the
 * names this call created, for removeImages when the commit fails, so a failed run never
 * removes a file it did not put there.
 */
export function placeImages(
  names: string[],
  files: Map<string, string>,
  uploadDir: string,
  placed: string[],
  staging = path.join(uploadDir, STAGING_DIR),
): void {
  for (const name of names) {
    const file = path.join(uploadDir, name)
    try {
      linkSync(path.join(staging, name), file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (alreadyInPlace(uploadDir, name, files.get(name)!)) continue
      // Gone again in between.
      linkSync(path.join(staging, name), file)
    }
    placed.push(name)
    if (sha256(file) !== files.get(name)) throw new ImageError(`${file} differs from the original (SHA-256)`)
  }
  rmSync(staging, { recursive: true, force: true })
}

/** Undoes a run: removes the files it placed and whatever it staged in `staging`. */
export function removeImages(placed: string[], uploadDir: string, staging = path.join(uploadDir, STAGING_DIR)): void {
  for (const name of placed) unlinkSync(path.join(uploadDir, name))
  rmSync(staging, { recursive: true, force: true })
}
