/**
 * The result byte a responder writes before its response
 * (docs/APPLICATION-PROTOCOLS.md §3). The values are eth2 req/resp's.
 */
export enum ResultCode {
  /** the payload that follows is the response */
  SUCCESS = 'SUCCESS',
  /** the request could not be read or was refused as invalid (too large, undecodable); the payload is an error message */
  INVALID_REQUEST = 'INVALID_REQUEST',
  /** the responder failed while answering (its handler threw); the payload is an error message */
  SERVER_ERROR = 'SERVER_ERROR',
  /** the responder will not answer now: too many requests in flight (rate limited) or it lacks the data; the payload is an error message */
  RESOURCE_UNAVAILABLE = 'RESOURCE_UNAVAILABLE'
}

/** The byte on the wire for each result code */
export const RESULT_BYTE: Record<ResultCode, number> = {
  [ResultCode.SUCCESS]: 0,
  [ResultCode.INVALID_REQUEST]: 1,
  [ResultCode.SERVER_ERROR]: 2,
  [ResultCode.RESOURCE_UNAVAILABLE]: 3
}

const BY_BYTE = new Map(Object.entries(RESULT_BYTE).map(([code, byte]) => [byte, code as ResultCode]))

/** The result code a byte on the wire stands for; undefined for an unknown byte */
export function resultCodeOf (byte: number): ResultCode | undefined {
  return BY_BYTE.get(byte)
}
