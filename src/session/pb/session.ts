import { ReasonCode } from '../../reason/pb/reason.js'
import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Goodbye {
  reason?: ReasonCode
  appCode?: number
  detail?: string
}

export namespace Goodbye {
  let _codec: Codec<Goodbye>

  export const codec = (): Codec<Goodbye> => {
    if (_codec == null) {
      _codec = message<Goodbye>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.reason != null) {
          w.uint32(8)
          ReasonCode.codec().encode(obj.reason, w)
        }

        if (obj.appCode != null) {
          w.uint32(16)
          w.uint32(obj.appCode)
        }

        if (obj.detail != null) {
          w.uint32(26)
          w.string(obj.detail)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reason = ReasonCode.codec().decode(reader)
              break
            }
            case 2: {
              obj.appCode = reader.uint32()
              break
            }
            case 3: {
              obj.detail = reader.string()
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.reason`,
                value: ReasonCode.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.appCode`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
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

  export interface GoodbyeReasonFieldEvent {
    field: '$.reason'
    value: ReasonCode
  }

  export interface GoodbyeAppCodeFieldEvent {
    field: '$.appCode'
    value: number
  }

  export interface GoodbyeDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export function encode (obj: Partial<Goodbye>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Goodbye.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Goodbye>): Goodbye {
    return decodeMessage(buf, Goodbye.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Goodbye>): Generator<GoodbyeReasonFieldEvent | GoodbyeAppCodeFieldEvent | GoodbyeDetailFieldEvent> {
    return streamMessage(buf, Goodbye.codec(), opts)
  }
}
