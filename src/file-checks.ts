import { closeSync, openSync, rmSync, type Stats, statSync } from 'node:fs'
import path from 'node:path'

/*
 * Checks the commands make on the files they are given before any database work, so that a
 * path that cannot work is refused at once, in one line naming the path and what is wrong,
 * rather than after the whole database was read.
 */

/** A file system error in words, with its code: `permission denied (EACCES)`. */
export function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const words: Record<string, string> = {
    ENOTDIR: 'a path component is a file, not a directory',
    EEXIST: 'a file is in the way of the directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  }
  return code && words[code] ? `${words[code]} (${code})` : error instanceof Error ? error.message : String(error)
}

/**
 * Why `file` cannot be written whole (created, or an existing regular file replaced by a
 * finished one renamed over it), or undefined when it can: it must not name a folder or
 * any other non-regular file, its folder must exist, and a file must be creatable there
 * (a probe file is created and removed, which also finds read-only file systems and places
 * such as /proc that even root cannot write). One line: `cannot write <file>: there is no
 * folder <folder>`.
 */
export function unwritableFileProblem(file: string): string | undefined {
  const problem = (what: string) => `cannot write ${file}: ${what}`
  const folder = path.dirname(path.resolve(file))
  try {
    const info = stat(file)
    if (/[/\\]$/.test(file) || info?.isDirectory()) return problem('it names a folder, not a file')
    if (info && !info.isFile()) return problem('it is not a regular file')
    const parent = stat(folder)
    if (!parent) return problem(`there is no folder ${folder}`)
    if (!parent.isDirectory()) return problem(`${folder} is not a folder`)
  } catch (error) {
    return problem(fsProblem(error))
  }
  const creatable = creatableIn(folder)
  return creatable && problem(creatable)
}

/**
 * Why files cannot be put in `folder`, which is made (with its parents) when missing, or
 * undefined when they can: the folder, or its nearest existing ancestor, must be a folder
 * that takes a new file (probed as above). One line: `/srv is not a folder`.
 */
export function unwritableFolderProblem(folder: string): string | undefined {
  let existing = path.resolve(folder)
  try {
    let info = stat(existing)
    // The root always exists, so this ends.
    while (!info) {
      existing = path.dirname(existing)
      info = stat(existing)
    }
    if (!info.isDirectory()) return `${existing} is not a folder`
  } catch (error) {
    return `cannot reach ${existing}: ${fsProblem(error)}`
  }
  return creatableIn(existing)
}

/** Why `file` cannot be read, or undefined when it opens for reading: `there is no file <file>`. */
export function unreadableFileProblem(file: string): string | undefined {
  try {
    const info = stat(file)
    if (!info) return `there is no file ${file}`
    if (info.isDirectory()) return `${file} is a folder, not a file`
    closeSync(openSync(file, 'r'))
    return undefined
  } catch (error) {
    return `cannot read ${file}: ${fsProblem(error)}`
  }
}

/** Its status, or undefined when nothing is there (a missing component included). */
function stat(file: string): Stats | undefined {
  try {
    return statSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw error
  }
}

/** Creates and removes a probe file in `folder`; why that failed, or undefined. */
function creatableIn(folder: string): string | undefined {
  const probe = path.join(folder, `.gearbox-write-check-${process.pid}`)
  try {
    closeSync(openSync(probe, 'w'))
    rmSync(probe, { force: true })
    return undefined
  } catch (error) {
    // ENOENT for a file in a folder that exists: a place such as /proc that takes no new files.
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it takes no new files (ENOENT)' : fsProblem(error)
    return `cannot create a file in ${folder}: ${why}`
  }
}
