/*
 * A strict structural check of a protobuf encoding against the fields its
 * message declares, run before protons decodes it (docs/PROTOCOL.md §4.3).
 * The handshake's messages, the Status and the Goodbye all go through it.
 *
 * protons-runtime's generated decoders are lenient. They pick a field by its
 * number alone and read it with the declared type's reader whatever wire type
 * the tag says: hello bytes `0a ff 01` (field 1, length-delimited) are read as
 * the varint `protocol_version = 255`, and the hello then fails a later check
 * ("nonce must be 32 bytes, got 0"). They skip field number 0 as an unknown
 * field, let a nested message (`head`) read past its own length into the
 * fields that follow it, read a 32-bit varint of 6 to 9 bytes as 10, and turn
 * invalid UTF-8 into arbitrary characters (so two different byte strings can
 * decode to the same DID). This check rejects all of these, so that whatever
 * protons then decodes is exactly what the bytes say (docs/PROTOCOL.md §4.3).
 */

/** The types of a message's fields, as far as the wire is concerned */
export type FieldType = 'uint32' | 'uint64' | 'bool' | 'enum' | 'bytes' | 'string' | 'message'

export interface FieldSpec {
  name: string
  type: FieldType
  /** the fields of a nested message */
  message?: MessageSpec
}

/** A message's declared fields by field number */
export type MessageSpec = ReadonlyMap<number, FieldSpec>

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/) */
enum WireType {
  VARINT = 0,
  I64 = 1,
  LEN = 2,
  SGROUP = 3,
  EGROUP = 4,
  I32 = 5
}

const WIRE_TYPE_NAMES: Record<number, string> = {
  [WireType.VARINT]: 'varint',
  [WireType.I64]: 'fixed64',
  [WireType.LEN]: 'length-delimited',
  [WireType.SGROUP]: 'group start',
  [WireType.EGROUP]: 'group end',
  [WireType.I32]: 'fixed32'
}

const WIRE_TYPE_OF: Record<FieldType, WireType> = {
  uint32: WireType.VARINT,
  uint64: WireType.VARINT,
  bool: WireType.VARINT,
  enum: WireType.VARINT,
  bytes: WireType.LEN,
  string: WireType.LEN,
  message: WireType.LEN
}

/**
 * A tag, a length and a 32-bit field (uint32, bool, enum) are varints of at
 * most 5 bytes holding at most 2^32 - 1: what every encoder writes for them,
 * and all protons' 32-bit reader reads correctly. Within that, a bool is true
 * for any value but 0 (`20 02` is `accept = true`), as every protobuf decoder
 * reads it; above it decoders disagree (protons and protobuf.js truncate 2^32
 * to 0, false; Go reads true), so such a bool is refused with the other
 * 32-bit fields.
 */
const MAX_VARINT32_BYTES = 5

/** A 64-bit field (uint64) is a varint of at most 10 bytes holding at most 2^64 - 1 */
const MAX_VARINT64_BYTES = 10

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** What is wrong with an encoding; caught by `checkEncoding`, never escapes it */
class EncodingProblem extends Error {}

interface Varint {
  value: number
  next: number
}

/**
 * Reads a varint of at most `maxBytes` at `pos`, which must end before `end`.
 * Values above 2^53 lose precision, which is harmless: no length can be that
 * large, and other values are only range-checked.
 */
function readVarint (buf: Uint8Array, pos: number, end: number, maxBytes: number, what: string): Varint {
  let value = 0
  for (let i = 0; i < maxBytes; i++) {
    if (pos + i >= end) {
      throw new EncodingProblem(`${what} at offset ${pos} is truncated`)
    }
    const byte = buf[pos + i]
    if (i === maxBytes - 1 && byte > (maxBytes === MAX_VARINT32_BYTES ? 0x0f : 0x01)) {
      throw new EncodingProblem(`${what} at offset ${pos} overflows ${maxBytes === MAX_VARINT32_BYTES ? 32 : 64} bits`)
    }
    value += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      return { value, next: pos + i + 1 }
    }
  }
  // unreachable: the last byte allowed either ended the varint or overflowed
  throw new EncodingProblem(`${what} at offset ${pos} is longer than ${maxBytes} bytes`)
}

function wireTypeName (wireType: number): string {
  return `${wireType} (${WIRE_TYPE_NAMES[wireType] ?? 'invalid'})`
}

/**
 * Checks the fields in `buf[start, end)` against `spec`; names in problems
 * start with `prefix`
 */
function checkMessage (buf: Uint8Array, start: number, end: number, spec: MessageSpec, prefix: string): void {
  let pos = start
  while (pos < end) {
    const tagAt = pos
    const tag = readVarint(buf, pos, end, MAX_VARINT32_BYTES, 'tag')
    pos = tag.next
    const fieldNumber = Math.floor(tag.value / 8)
    const wireType = tag.value % 8
    if (fieldNumber === 0) {
      throw new EncodingProblem(`tag at offset ${tagAt} has field number 0`)
    }

    const field = spec.get(fieldNumber)
    const name = field == null ? `unknown field ${fieldNumber}` : `field ${fieldNumber} (${prefix}${field.name})`
    if (field != null && wireType !== WIRE_TYPE_OF[field.type]) {
      throw new EncodingProblem(`${name} has wire type ${wireTypeName(wireType)}, expected ${wireTypeName(WIRE_TYPE_OF[field.type])}`)
    }

    switch (wireType) {
      case WireType.VARINT: {
        pos = readVarint(buf, pos, end, field?.type === 'uint64' || field == null ? MAX_VARINT64_BYTES : MAX_VARINT32_BYTES, name).next
        break
      }
      case WireType.LEN: {
        const length = readVarint(buf, pos, end, MAX_VARINT32_BYTES, `length of ${name}`)
        pos = length.next
        if (length.value > end - pos) {
          throw new EncodingProblem(`${name} runs past the end: ${length.value} bytes at offset ${pos}, ${end - pos} left`)
        }
        if (field?.type === 'string') {
          try {
            strictUtf8.decode(buf.subarray(pos, pos + length.value))
          } catch {
            throw new EncodingProblem(`${name} is not valid UTF-8`)
          }
        } else if (field?.type === 'message' && field.message != null) {
          checkMessage(buf, pos, pos + length.value, field.message, `${prefix}${field.name}.`)
        }
        pos += length.value
        break
      }
      case WireType.I64:
      case WireType.I32: {
        const size = wireType === WireType.I64 ? 8 : 4
        if (size > end - pos) {
          throw new EncodingProblem(`${name} runs past the end: ${size} bytes at offset ${pos}, ${end - pos} left`)
        }
        pos += size
        break
      }
      default:
        // groups (3, 4) do not exist in proto3; 6 and 7 are not wire types
        throw new EncodingProblem(`${name} at offset ${tagAt} has wire type ${wireTypeName(wireType)}, which is not accepted`)
    }
  }
}

/**
 * Checks that `bytes` is a well-formed encoding of a message with the fields
 * `spec`: every tag and varint complete and within its limits, no field number
 * 0, every known field with its declared wire type, every length within the
 * bytes left (of the message or of the nested message it is in), every string
 * valid UTF-8. Unknown fields of wire types 0, 1, 2 and 5 are accepted and
 * skipped. (An enum value the enum does not define is left to protons, which
 * refuses it.)
 *
 * @returns a description of the first problem, or undefined if there is none
 */
export function checkEncoding (bytes: Uint8Array, spec: MessageSpec): string | undefined {
  try {
    checkMessage(bytes, 0, bytes.byteLength, spec, '')
    return undefined
  } catch (err) {
    if (err instanceof EncodingProblem) {
      return err.message
    }
    throw err
  }
}
