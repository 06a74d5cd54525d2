/** The UTF-8 size of a string, as protobuf encodes it */
export function utf8Length (text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/**
 * The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`. It
 * cuts before a character that does not fit whole, so it never leaves a
 * broken character behind.
 */
export function truncateUtf8 (text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.byteLength <= maxBytes) {
    return text
  }
  let end = Math.max(0, maxBytes)
  // bytes[end] is the first byte left out: while it continues a character, that character does not fit
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) {
    end--
  }
  return bytes.subarray(0, end).toString('utf8')
}
