/** A request the API refuses: carries the HTTP status and a message for the JSON error body */
export class ApiRequestError extends Error {
  static override name = 'ApiRequestError'
  override name = 'ApiRequestError'
  readonly status: number

  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** 400: the body or a field is malformed */
export function badRequest (message: string): ApiRequestError {
  return new ApiRequestError(400, message)
}
