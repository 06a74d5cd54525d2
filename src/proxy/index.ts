/**
 * @packageDocumentation
 *
 * Views of libp2p's objects with a few members replaced: the gated
 * services' connections and connection manager (src/session/gated.ts), the
 * transports whose connections coalesce their writes
 * (src/node/coalesce-writes.ts).
 */

/**
 * `target` with `overrides` in place of those members. Every other member is
 * the target's own, and its methods run on the target, not on the view
 * (libp2p's objects keep private state)
 */
export function withOverrides<T extends object> (target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get: (self, property) => {
      if (Object.hasOwn(overrides, property)) {
        return overrides[property as keyof T]
      }
      const value = Reflect.get(self, property, self)
      return typeof value === 'function' ? value.bind(self) : value
    }
  })
}
