import { ReasonCode } from '../../reason/pb/reason.js'
import { writeUint64 } from '../../wire/uint64.js'
import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Hello {
  protocolVersion: number
  chainId: string
  genesisHash: Uint8Array<ArrayBuffer>
  chainVersion: string
  did: string
  nonce: Uint8Array<ArrayBuffer>
  timestamp: bigint
  head?: Head
  extra: Uint8Array<ArrayBuffer>
}

export namespace Hello {
  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.protocolVersion != null && obj.protocolVersion !== 0)) {
          w.uint32(8)
          w.uint32(obj.protocolVersion)
        }

        if ((obj.chainId != null && obj.chainId !== '')) {
          w.uint32(18)
          w.string(obj.chainId)
        }

        if ((obj.genesisHash != null && obj.genesisHash.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.genesisHash)
        }

        if ((obj.chainVersion != null && obj.chainVersion !== '')) {
          w.uint32(34)
          w.string(obj.chainVersion)
        }

        if ((obj.did != null && obj.did !== '')) {
          w.uint32(42)
          w.string(obj.did)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.nonce)
        }

        if ((obj.timestamp != null && obj.timestamp !== 0n)) {
          w.uint32(56)
          writeUint64(w, obj.timestamp)
        }

        if (obj.head != null) {
          w.uint32(66)
          Head.codec().encode(obj.head, w)
        }

        if ((obj.extra != null && obj.extra.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.extra)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          protocolVersion: 0,
          chainId: '',
          genesisHash: uint8ArrayAlloc(0),
          chainVersion: '',
          did: '',
          nonce: uint8ArrayAlloc(0),
          timestamp: 0n,
          extra: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.protocolVersion = reader.uint32()
              break
            }
            case 2: {
              obj.chainId = reader.string()
              break
            }
            case 3: {
              obj.genesisHash = reader.bytes()
              break
            }
            case 4: {
              obj.chainVersion = reader.string()
              break
            }
            case 5: {
              obj.did = reader.string()
              break
            }
            case 6: {
              obj.nonce = reader.bytes()
              break
            }
            case 7: {
              obj.timestamp = reader.uint64()
              break
            }
            case 8: {
              obj.head = Head.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.head
              })
              break
            }
            case 9: {
              obj.extra = reader.bytes()
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
                field: `${prefix}.protocolVersion`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.chainId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.genesisHash`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.chainVersion`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.did`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.uint64()
              }
              break
            }
            case 8: {
              yield * Head.codec().stream(reader, reader.uint32(), `${prefix}.head`, {
                limits: opts.limits?.head
              })

              break
            }
            case 9: {
              yield {
                field: `${prefix}.extra`,
                value: reader.bytes()
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

  export interface HelloProtocolVersionFieldEvent {
    field: '$.protocolVersion'
    value: number
  }

  export interface HelloChainIdFieldEvent {
    field: '$.chainId'
    value: string
  }

  export interface HelloGenesisHashFieldEvent {
    field: '$.genesisHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HelloChainVersionFieldEvent {
    field: '$.chainVersion'
    value: string
  }

  export interface HelloDidFieldEvent {
    field: '$.did'
    value: string
  }

  export interface HelloNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HelloTimestampFieldEvent {
    field: '$.timestamp'
    value: bigint
  }

  export interface HelloHeadHeightFieldEvent {
    field: '$.head.height'
    value: bigint
  }

  export interface HelloHeadHashFieldEvent {
    field: '$.head.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HelloExtraFieldEvent {
    field: '$.extra'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloProtocolVersionFieldEvent | HelloChainIdFieldEvent | HelloGenesisHashFieldEvent | HelloChainVersionFieldEvent | HelloDidFieldEvent | HelloNonceFieldEvent | HelloTimestampFieldEvent | HelloHeadHeightFieldEvent | HelloHeadHashFieldEvent | HelloExtraFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface HandshakeMessage {
  hello?: Uint8Array<ArrayBuffer>
  signature?: Uint8Array<ArrayBuffer>
  reject?: ReasonCode
  accept?: boolean
  detail?: string
  appCode?: number
}

export namespace HandshakeMessage {
  let _codec: Codec<HandshakeMessage>

  export const codec = (): Codec<HandshakeMessage> => {
    if (_codec == null) {
      _codec = message<HandshakeMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.hello != null) {
          w.uint32(10)
          w.bytes(obj.hello)
        }

        if (obj.signature != null) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (obj.reject != null) {
          w.uint32(24)
          ReasonCode.codec().encode(obj.reject, w)
        }

        if (obj.accept != null) {
          w.uint32(32)
          w.bool(obj.accept)
        }

        if (obj.detail != null) {
          w.uint32(42)
          w.string(obj.detail)
        }

        if (obj.appCode != null) {
          w.uint32(48)
          w.uint32(obj.appCode)
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
              obj.hello = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
              break
            }
            case 3: {
              obj.reject = ReasonCode.codec().decode(reader)
              break
            }
            case 4: {
              obj.accept = reader.bool()
              break
            }
            case 5: {
              obj.detail = reader.string()
              break
            }
            case 6: {
              obj.appCode = reader.uint32()
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
                field: `${prefix}.hello`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reject`,
                value: ReasonCode.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.accept`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.detail`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.appCode`,
                value: reader.uint32()
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

  export interface HandshakeMessageHelloFieldEvent {
    field: '$.hello'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HandshakeMessageSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HandshakeMessageRejectFieldEvent {
    field: '$.reject'
    value: ReasonCode
  }

  export interface HandshakeMessageAcceptFieldEvent {
    field: '$.accept'
    value: boolean
  }

  export interface HandshakeMessageDetailFieldEvent {
    field: '$.detail'
    value: string
  }

  export interface HandshakeMessageAppCodeFieldEvent {
    field: '$.appCode'
    value: number
  }

  export function encode (obj: Partial<HandshakeMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HandshakeMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HandshakeMessage>): HandshakeMessage {
    return decodeMessage(buf, HandshakeMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HandshakeMessage>): Generator<HandshakeMessageHelloFieldEvent | HandshakeMessageSignatureFieldEvent | HandshakeMessageRejectFieldEvent | HandshakeMessageAcceptFieldEvent | HandshakeMessageDetailFieldEvent | HandshakeMessageAppCodeFieldEvent> {
    return streamMessage(buf, HandshakeMessage.codec(), opts)
  }
}

export interface Head {
  height: bigint
  hash: Uint8Array<ArrayBuffer>
}

export namespace Head {
  let _codec: Codec<Head>

  export const codec = (): Codec<Head> => {
    if (_codec == null) {
      _codec = message<Head>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.height != null && obj.height !== 0n)) {
          w.uint32(8)
          writeUint64(w, obj.height)
        }

        if ((obj.hash != null && obj.hash.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.hash)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          height: 0n,
          hash: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.height = reader.uint64()
              break
            }
            case 2: {
              obj.hash = reader.bytes()
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
                field: `${prefix}.height`,
                value: reader.uint64()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.hash`,
                value: reader.bytes()
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

  export interface HeadHeightFieldEvent {
    field: '$.height'
    value: bigint
  }

  export interface HeadHashFieldEvent {
    field: '$.hash'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Head>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Head.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Head>): Head {
    return decodeMessage(buf, Head.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Head>): Generator<HeadHeightFieldEvent | HeadHashFieldEvent> {
    return streamMessage(buf, Head.codec(), opts)
  }
}
