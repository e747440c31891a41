import type { MiddlewareHandler } from 'hono'
import { ValidationError } from '../../errors'

/**
 * Refuses a query string whose percent-encoded bytes are not UTF-8 (RFC 3986 section 2.5), or
 * with a `%` not followed by two hex digits (section 2.1): 400 naming `query.<name>`. Hono keeps
 * such a sequence as it was sent (`q=%FF` became the text "%FF"), so the request ran with a
 * value its client never meant. Throws ValidationError.
 */
export const utf8Query: MiddlewareHandler = async (c, next) => {
  const url = c.req.url
  const start = url.indexOf('?')
  if (start >= 0 && url.indexOf('%', start) >= 0) {
    const problems = url
      .slice(start + 1)
      .split('#')[0]!
      .split('&')
      .flatMap((pair) => {
        const [name = '', value = ''] = pair.split(/=(.*)/s)
        return decodes(value) ? [] : [{ path: `query.${decodes(name) ? decodeURIComponent(name) : name}`, message: 'is not valid percent-encoded UTF-8' }]
      })
    if (problems.length > 0) throw new ValidationError('invalid query', problems)
  }
  return next()
}

const decodes = (text: string) => {
  try {
    decodeURIComponent(text)
    return true
  } catch {
    return false
  }
}
