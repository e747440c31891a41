/** An image type GearBox stores and serves: `ext` of the names it gives, the `mime` it serves it as. */
export interface ImageType {
  ext: 'png' | 'jpg' | 'webp'
  mime: 'image/png' | 'image/jpeg' | 'image/webp'
}

const startsWith = (bytes: Uint8Array, prefix: number[], at = 0) => bytes.length >= at + prefix.length && prefix.every((value, i) => bytes[at + i] === value)
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))

const TYPES: (ImageType & { matches(bytes: Uint8Array): boolean })[] = [
  // PNG signature (PNG spec section 5.2); JPEG's SOI marker and the next marker's 0xFF; RIFF....WEBP (RFC 9649).
  { ext: 'png', mime: 'image/png', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { ext: 'jpg', mime: 'image/jpeg', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { ext: 'webp', mime: 'image/webp', matches: (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8) },
]

/** How many leading bytes imageType needs. */
export const IMAGE_HEAD_BYTES = 12

/**
 * The type of an image by its first bytes (at least IMAGE_HEAD_BYTES of them, or the whole
 * file), never by its name: png, jpeg or webp, else undefined.
 */
export function imageType(head: Uint8Array): ImageType | undefined {
  const type = TYPES.find((t) => t.matches(head))
  return type && { ext: type.ext, mime: type.mime }
}

/**
 * Whether `name` can name an image in the upload folder: a plain file name, not a path (so
 * never one that leads out of the folder), not a dot-file (the import's staging folder is
 * one), no NUL.
 */
export function isPlainFileName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !name.includes('\0') && !/[/\\]/.test(name)
}

/** The column of each table that names a file in the upload folder (GEARBOX_UPLOAD_DIR, and the old app's uploads). */
export const IMAGE_COLUMNS: Record<string, string> = { items: 'image_filename', thread_candidates: 'image_filename' }
