import { createRoute, z } from '@hono/zod-openapi'
import { errorResponse, errorResponses, jsonResponse, writeErrorResponses } from '../schemas/common'
import type { Services } from '../services'
import { MAX_IMAGE_BYTES } from '../services/image-service'
import type { BodyRule } from './middleware/body'
import { createRouter } from './router'

/** Uploads are forms; the limit leaves room for the multipart framing around a file of the maximum size. */
const UPLOAD_BODY: BodyRule = {
  mediaType: 'multipart/form-data',
  maxBytes: MAX_IMAGE_BYTES + 64 * 1024,
  tooLarge: `image is larger than ${MAX_IMAGE_BYTES} bytes`,
}

/** The form: one field, `file` (a repeated field arrives as an array); any other is refused like an unknown body key. */
const Upload = z.strictObject({
  file: z
    .instanceof(File, { error: (issue) => (Array.isArray(issue.input) ? `must be one file, not ${issue.input.length}` : 'must be a file') })
    .openapi({ type: 'string', format: 'binary' }),
})

const upload = createRoute({
  method: 'post',
  path: '/',
  tags: ['images'],
  summary: 'Upload a png, jpeg or webp image (at most 5 MB, type checked by content)',
  request: { body: { required: true, content: { 'multipart/form-data': { schema: Upload } } } },
  responses: {
    201: jsonResponse(z.object({ filename: z.string() }).openapi('UploadedImage'), 'Stored'),
    ...writeErrorResponses,
    413: errorResponse('Larger than 5 MB'),
  },
})

const serve = createRoute({
  method: 'get',
  path: '/{filename}',
  tags: ['images'],
  summary: 'An uploaded image',
  security: [],
  request: { params: z.object({ filename: z.string().openapi({ param: { name: 'filename', in: 'path' } }) }) },
  responses: {
    200: { description: 'The image', content: { 'image/*': { schema: z.string().openapi({ format: 'binary' }) } } },
    404: errorResponses[404],
  },
})

export function imageRoutes(services: Services) {
  return createRouter(UPLOAD_BODY).openapi(upload, async (c) => {
    const { file } = c.req.valid('form')
    const stored = await services.images.save(new Uint8Array(await file.arrayBuffer()))
    return c.json(stored, 201)
  })
}

export function uploadRoutes(services: Services) {
  return createRouter().openapi(serve, async (c) => {
    const { file, mime } = await services.images.open(c.req.valid('param').filename)
    // Streamed, with its length: a client sees the size at once (and a HEAD gets it too).
    return c.body(file.stream(), 200, {
      'content-type': mime,
      'content-length': String(file.size),
      'cache-control': 'public, max-age=31536000, immutable',
    })
  })
}
