/** Domain errors: raised by repositories and services, mapped to HTTP by the one error handler in app.ts. */
export class DomainError extends Error {
  override name = this.constructor.name
  /** What exactly is wrong, field by field: the error body's `details`. */
  readonly details: FieldProblem[]
  /** When to try again, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined

  constructor(message: string, options?: ErrorOptions & { details?: FieldProblem[]; retryAfterSeconds?: number }) {
    super(message, options)
    this.details = options?.details ?? []
    this.retryAfterSeconds = options?.retryAfterSeconds
  }
}

export interface FieldProblem {
  path: string
  message: string
}

export class ValidationError extends DomainError {
  constructor(message: string, details: FieldProblem[] = []) {
    super(message, { details })
  }
}

export class NotFoundError extends DomainError {
  constructor(resource: string, id?: number | string) {
    super(id === undefined ? `${resource} not found` : `${resource} ${id} not found`)
  }
}

export class ConflictError extends DomainError {
  constructor(
    message: string,
    readonly constraint?: string,
  ) {
    super(message)
  }
}

export class UnauthorizedError extends DomainError {}
export class ForbiddenError extends DomainError {}

export class TooManyRequestsError extends DomainError {
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { retryAfterSeconds })
  }
}

/** The database cannot be reached, or is not at the latest migration; safe to retry later. */
export class UnavailableError extends DomainError {
  constructor(message: string, options?: ErrorOptions & { details?: FieldProblem[] }) {
    super(message, { ...options, retryAfterSeconds: 5 })
  }
}

export class PayloadTooLargeError extends DomainError {}

/** OAuth's own error codes (RFC 6749 section 5.2, RFC 7591 section 3.2.2, RFC 8707, RFC 7009). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'access_denied'

/** An OAuth protocol error: answered 400 as `{"error": code, "error_description": message}`, not the API's shape. */
export class OAuthError extends DomainError {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
  ) {
    super(message)
  }
}
