/**
 * @packageDocumentation
 *
 * Small facts about bytes on the wire that several protocols share: the
 * UTF-8 size of a string, as protobuf carries it, and cutting a note to a
 * byte limit without breaking a character.
 */

export { truncateUtf8, utf8Length } from './utf8.js'
