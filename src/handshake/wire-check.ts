/*
 * The messages of protobuf/handshake.proto for the strict check
 * (src/wire/protobuf-check.ts, docs/PROTOCOL.md §4.3).
 */
import { HEAD_SPEC } from '../chain/index.js'
import type { FieldSpec, MessageSpec } from '../wire/index.js'

export { checkEncoding, type MessageSpec } from '../wire/index.js'

/*
 * Field by field. They must mirror the .proto; test/handshake/wire-check.test.ts
 * compares them with it.
 */

/** The fields of `Hello` */
export const HELLO_SPEC: MessageSpec = new Map<number, FieldSpec>([
  [1, { name: 'protocol_version', type: 'uint32' }],
  [2, { name: 'chain_id', type: 'string' }],
  [3, { name: 'genesis_hash', type: 'bytes' }],
  [4, { name: 'chain_version', type: 'string' }],
  [5, { name: 'did', type: 'string' }],
  [6, { name: 'nonce', type: 'bytes' }],
  [7, { name: 'timestamp', type: 'uint64' }],
  [8, { name: 'head', type: 'message', message: HEAD_SPEC }],
  [9, { name: 'extra', type: 'bytes' }]
])

/** The fields of `HandshakeMessage` */
export const HANDSHAKE_MESSAGE_SPEC: MessageSpec = new Map<number, FieldSpec>([
  [1, { name: 'hello', type: 'bytes' }],
  [2, { name: 'signature', type: 'bytes' }],
  [3, { name: 'reject', type: 'enum' }],
  [4, { name: 'accept', type: 'bool' }],
  [5, { name: 'detail', type: 'string' }],
  [6, { name: 'app_code', type: 'uint32' }]
])
