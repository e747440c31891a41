import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { IMAGE_HEAD_BYTES, imageType, isPlainFileName } from '../domain/image'
import { NotFoundError, PayloadTooLargeError, UnavailableError, ValidationError } from '../errors'

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024

/** Stores uploaded images under random names; the type comes from the bytes, never the file name. */
export class ImageService {
  constructor(private readonly uploadDir: string) {}

  /**
   * Stores `bytes` under a new random name: written to a hidden file and renamed into place,
   * so a name never shows a partial file. Throws ValidationError for anything but
   * png/jpeg/webp (naming the upload form's field, `form.file`, as the validators do),
   * PayloadTooLargeError above 5 MB, UnavailableError (503) when the upload folder's disk is
   * full or read-only; nothing is left behind then.
   */
  async save(bytes: Uint8Array): Promise<{ filename: string }> {
    if (bytes.length > MAX_IMAGE_BYTES) throw new PayloadTooLargeError(`image is larger than ${MAX_IMAGE_BYTES} bytes`)
    const type = imageType(bytes)
    if (!type) {
      throw new ValidationError('file is not a png, jpeg or webp image', [{ path: 'form.file', message: 'must be png, jpeg or webp' }])
    }
    const filename = `${randomBytes(16).toString('hex')}.${type.ext}`
    // Hidden (a leading dot): never served, whatever happens to it.
    const partial = path.join(this.uploadDir, `.${filename}.partial`)
    try {
      await mkdir(this.uploadDir, { recursive: true })
      await writeFile(partial, bytes)
      await rename(partial, path.join(this.uploadDir, filename))
    } catch (error) {
      await rm(partial, { force: true })
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS') {
        throw new UnavailableError(`cannot store the image: the upload folder ${code === 'EROFS' ? 'is read-only' : 'is out of space'} (${code})`, {
          cause: error,
        })
      }
      throw error
    }
    return { filename }
  }

  /**
   * An image in the upload folder by its file name, typed by its bytes. Any plain file name is
   * served, not only the names `save` gives: an import from the old app keeps its images'
   * names. Only what `save` would take is served (png, jpeg or webp by content), so no other
   * file in the folder can be read through it. Throws NotFoundError for a name that is not a
   * plain file name (a path, a dot-file such as the import's staging folder), a file that is
   * not there, or one that is not such an image.
   */
  async open(filename: string): Promise<{ file: Blob; mime: string }> {
    const where = path.join(this.uploadDir, filename)
    const info = isPlainFileName(filename) ? await stat(where).catch(() => undefined) : undefined
    const file = info?.isFile() ? Bun.file(where) : undefined
    const type = file && imageType(new Uint8Array(await file.slice(0, IMAGE_HEAD_BYTES).arrayBuffer()))
    if (!file || !type) throw new NotFoundError('image', filename)
    return { file, mime: type.mime }
  }
}
