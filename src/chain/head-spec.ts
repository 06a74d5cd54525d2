/*
 * The fields of `Head` (protobuf/chain.proto), which a hello and a Status
 * carry, for the strict check (src/wire/protobuf-check.ts, docs/PROTOCOL.md
 * §4.3). They must mirror the .proto; test/handshake/wire-check.test.ts
 * compares them with it.
 */
import type { FieldSpec, MessageSpec } from '../wire/index.js'

/** The fields of `Head` */
export const HEAD_SPEC: MessageSpec = new Map<number, FieldSpec>([
  [1, { name: 'height', type: 'uint64' }],
  [2, { name: 'hash', type: 'bytes' }]
])
