/**
 * @packageDocumentation
 *
 * Small facts about bytes on the wire that several protocols share: the
 * UTF-8 size of a string, as protobuf carries it, cutting a note to a byte
 * limit without breaking a character, reading a frame's length prefix only
 * when it is a minimal unsigned varint, and checking a protobuf encoding
 * strictly before it is decoded.
 */

export { truncateUtf8, utf8Length } from './utf8.js'
export { decodeLengthPrefix, InvalidLengthPrefixError, MAX_LENGTH_PREFIX_BYTES } from './length-prefix.js'
export { checkEncoding, type FieldSpec, type FieldType, type MessageSpec } from './protobuf-check.js'
