import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum ContactSource {
  CONTACT_SOURCE_UNSPECIFIED = 'CONTACT_SOURCE_UNSPECIFIED',
  CONTACT_SOURCE_BOOTSTRAP = 'CONTACT_SOURCE_BOOTSTRAP',
  CONTACT_SOURCE_DHT = 'CONTACT_SOURCE_DHT',
  CONTACT_SOURCE_MANUAL = 'CONTACT_SOURCE_MANUAL',
  CONTACT_SOURCE_INBOUND = 'CONTACT_SOURCE_INBOUND'
}

enum __ContactSourceValues {
  CONTACT_SOURCE_UNSPECIFIED = 0,
  CONTACT_SOURCE_BOOTSTRAP = 1,
  CONTACT_SOURCE_DHT = 2,
  CONTACT_SOURCE_MANUAL = 3,
  CONTACT_SOURCE_INBOUND = 4
}

export namespace ContactSource {
  export const codec = (): Codec<ContactSource> => {
    return enumeration<ContactSource>(__ContactSourceValues)
  }
}

export interface ContactRecord {
  peerId: Uint8Array<ArrayBuffer>
  multiaddrs: Uint8Array<ArrayBuffer>[]
  did: string
  source: ContactSource
  firstSeen: number
  lastSeen: number
  lastSession?: number
  failures: number
  nextAttempt: number
  backoffReason?: string
  score?: number
  scoreAt?: number
}

export namespace ContactRecord {
  let _codec: Codec<ContactRecord>

  export const codec = (): Codec<ContactRecord> => {
    if (_codec == null) {
      _codec = message<ContactRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peerId)
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.did != null && obj.did !== '')) {
          w.uint32(26)
          w.string(obj.did)
        }

        if (obj.source != null && __ContactSourceValues[obj.source] !== 0) {
          w.uint32(32)
          ContactSource.codec().encode(obj.source, w)
        }

        if ((obj.firstSeen != null && obj.firstSeen !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.firstSeen)
        }

        if ((obj.lastSeen != null && obj.lastSeen !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.lastSeen)
        }

        if (obj.lastSession != null) {
          w.uint32(56)
          w.uint64Number(obj.lastSession)
        }

        if ((obj.failures != null && obj.failures !== 0)) {
          w.uint32(64)
          w.uint32(obj.failures)
        }

        if ((obj.nextAttempt != null && obj.nextAttempt !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.nextAttempt)
        }

        if (obj.backoffReason != null) {
          w.uint32(82)
          w.string(obj.backoffReason)
        }

        if (obj.score != null) {
          w.uint32(89)
          w.double(obj.score)
        }

        if (obj.scoreAt != null) {
          w.uint32(96)
          w.uint64Number(obj.scoreAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: uint8ArrayAlloc(0),
          multiaddrs: [],
          did: '',
          source: ContactSource.CONTACT_SOURCE_UNSPECIFIED,
          firstSeen: 0,
          lastSeen: 0,
          failures: 0,
          nextAttempt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.bytes())
              break
            }
            case 3: {
              obj.did = reader.string()
              break
            }
            case 4: {
              obj.source = ContactSource.codec().decode(reader)
              break
            }
            case 5: {
              obj.firstSeen = reader.uint64Number()
              break
            }
            case 6: {
              obj.lastSeen = reader.uint64Number()
              break
            }
            case 7: {
              obj.lastSession = reader.uint64Number()
              break
            }
            case 8: {
              obj.failures = reader.uint32()
              break
            }
            case 9: {
              obj.nextAttempt = reader.uint64Number()
              break
            }
            case 10: {
              obj.backoffReason = reader.string()
              break
            }
            case 11: {
              obj.score = reader.double()
              break
            }
            case 12: {
              obj.scoreAt = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          multiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.bytes()
              }

              obj.multiaddrs++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.did`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.source`,
                value: ContactSource.codec().decode(reader)
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.firstSeen`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.lastSeen`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.lastSession`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.failures`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.nextAttempt`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.backoffReason`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.score`,
                value: reader.double()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.scoreAt`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ContactRecordPeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ContactRecordMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ContactRecordDidFieldEvent {
    field: '$.did'
    value: string
  }

  export interface ContactRecordSourceFieldEvent {
    field: '$.source'
    value: ContactSource
  }

  export interface ContactRecordFirstSeenFieldEvent {
    field: '$.firstSeen'
    value: number
  }

  export interface ContactRecordLastSeenFieldEvent {
    field: '$.lastSeen'
    value: number
  }

  export interface ContactRecordLastSessionFieldEvent {
    field: '$.lastSession'
    value: number
  }

  export interface ContactRecordFailuresFieldEvent {
    field: '$.failures'
    value: number
  }

  export interface ContactRecordNextAttemptFieldEvent {
    field: '$.nextAttempt'
    value: number
  }

  export interface ContactRecordBackoffReasonFieldEvent {
    field: '$.backoffReason'
    value: string
  }

  export interface ContactRecordScoreFieldEvent {
    field: '$.score'
    value: number
  }

  export interface ContactRecordScoreAtFieldEvent {
    field: '$.scoreAt'
    value: number
  }

  export function encode (obj: Partial<ContactRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ContactRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactRecord>): ContactRecord {
    return decodeMessage(buf, ContactRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ContactRecord>): Generator<ContactRecordPeerIdFieldEvent | ContactRecordMultiaddrsFieldEvent | ContactRecordDidFieldEvent | ContactRecordSourceFieldEvent | ContactRecordFirstSeenFieldEvent | ContactRecordLastSeenFieldEvent | ContactRecordLastSessionFieldEvent | ContactRecordFailuresFieldEvent | ContactRecordNextAttemptFieldEvent | ContactRecordBackoffReasonFieldEvent | ContactRecordScoreFieldEvent | ContactRecordScoreAtFieldEvent> {
    return streamMessage(buf, ContactRecord.codec(), opts)
  }
}
