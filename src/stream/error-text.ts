/**
 * What went wrong, in words, for a log line or a reason's message: whatever
 * a stream, a connection or a signal failed with, which is not always an
 * Error (a stream or socket may end an await with an `Event`, a signal with
 * any value). Never "[object Event]" nor "[object Object]".
 */
export function errorText (err: unknown): string {
  if (err instanceof Error) {
    return err.message === '' ? err.name : err.message
  }
  if (typeof Event !== 'undefined' && err instanceof Event) {
    const cause = (err as Event & { error?: unknown }).error
    return cause == null ? `${err.type} event` : `${err.type} event: ${errorText(cause)}`
  }
  if (typeof err === 'object' && err != null) {
    const { message, name } = err as { message?: unknown, name?: unknown }
    if (typeof message === 'string' && message !== '') {
      return message
    }
    if (typeof name === 'string' && name !== '') {
      return name
    }
    try {
      return JSON.stringify(err)
    } catch {
      return `a ${err.constructor?.name ?? 'value'} that cannot be printed`
    }
  }
  return String(err)
}
