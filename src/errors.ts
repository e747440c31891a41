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
