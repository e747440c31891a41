import type { MiddlewareHandler } from 'hono'
import { tryDecodeURIComponent } from 'hono/utils/url'
import { ValidationError } from '../../errors'

/** The parts (`name=value`) of a URL's query string as the client sent them, still percent-encoded. */
export const queryParts = ({ search }: URL): string[] => (search === '' ? [] : search.slice(1).split('&'))

/** A query part's parameter name as Hono reads it: `+` is a space, `%63ursor` is cursor. */
export const parameterName = (part: string) => tryDecodeURIComponent(part.split('=', 1)[0]!.replaceAll('+', ' '))

/**
 * Refuses a query string whose percent-encoded bytes are not UTF-8 (RFC 3986 section 2.5), or
 * with a `%` not followed by two hex digits (section 2.1): 400 naming `query.<name>`. Hono keeps
 * such a sequence as it was sent (`q=%FF` became the text "%FF"), so the request ran with a
 * value its client never meant. Throws ValidationError.
 */
export const utf8Query: MiddlewareHandler = async (c, next) => {
  const url = c.req.url
  const start = url.indexOf('?')
  // Most queries hold no percent sign at all: nothing to check.
  if (start >= 0 && url.indexOf('%', start) >= 0) {
    const problems = queryParts(new URL(url)).flatMap((part) =>
      decodes(part.split(/=(.*)/s)[1] ?? '') ? [] : [{ path: `query.${parameterName(part)}`, message: 'is not valid percent-encoded UTF-8' }],
    )
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
