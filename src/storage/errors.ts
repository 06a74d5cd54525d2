/**
 * The datastore refused a write (a full disk, a read-only file system, an
 * I/O error). A monitored datastore rejects a write of peergate's records or
 * of the application's with it, once it has reported the failure (logged
 * once per spell of failures, and in the node's storage health); `cause` is
 * the datastore's own error. peergate's stores keep the change in memory and
 * write it once writes succeed again.
 */
export class StorageWriteError extends Error {
  static override name = 'StorageWriteError'
  override name = 'StorageWriteError'

  constructor (cause: unknown) {
    super(`the datastore refused a write: ${causeText(cause)}`, { cause })
  }
}

/** Whether `err` is a StorageWriteError (by name, as errors are compared here) */
export function isStorageWriteError (err: unknown): err is StorageWriteError {
  return err instanceof Error && err.name === StorageWriteError.name
}

/** An error's own message, without the wrappers datastore-level puts around LevelDB's */
export function causeText (err: any): string {
  let cause = err
  for (let depth = 0; cause?.cause != null && depth < 5; depth++) {
    cause = cause.cause
  }
  // datastore-level puts LevelDB's error into its message as text
  return String(cause?.message ?? cause).replace(/^Error: /, '')
}
