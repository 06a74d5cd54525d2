/**
 * @packageDocumentation
 *
 * Small facts about bytes on the wire that several protocols share: frames
 * (a minimal unsigned-varint length prefix, then the body; read with the
 * size limit checked on the prefix) and their errors, the UTF-8 size of a
 * string, as protobuf carries it, cutting a note to a byte limit without
 * breaking a character, checking a protobuf encoding strictly before it
 * is decoded, and copying bytes (or a peer id) out of the larger buffer they
 * are a view into before they are kept for long.
 */

export { truncateUtf8, utf8Length } from './utf8.js'
export { MAX_LENGTH_PREFIX_BYTES } from './length-prefix.js'
export { FrameReader, encodeFrame, readFrame, readFrames, writeFrame, type ByteSource, type ReadFrameOptions, type WriteFrameOptions } from './frames.js'
export { InvalidLengthPrefixError, MessageTooLargeError, StreamEndedError } from './errors.js'
export { ownBytes, ownPeerId } from './own.js'
export { checkEncoding, type FieldSpec, type FieldType, type MessageSpec } from './protobuf-check.js'
