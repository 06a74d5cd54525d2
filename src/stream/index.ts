/**
 * @packageDocumentation
 *
 * Stream corrections peergate applies to every stream it hands to
 * application code (gated and ungated handlers, `openStream`) and to its own
 * protocol streams.
 */

export { endOnRemoteClose } from './remote-end.js'
export { errorText } from './error-text.js'
