/**
 * A datastore whose writes fail while `failing` is set, as a full disk's
 * would (ENOSPC), around a real one: what the node does then is what the
 * storage tests look at, not how a disk fills up.
 */
import type { Datastore } from 'interface-datastore'

export interface FaultyDatastore {
  datastore: Datastore
  /** writes fail while true */
  failing: boolean
  /** writes refused so far */
  refused: number
}

function diskFull (): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
}

export function faultyDatastore (inner: Datastore): FaultyDatastore {
  const state: FaultyDatastore = { datastore: inner, failing: false, refused: 0 }
  const refuse = (): void => {
    if (state.failing) {
      state.refused++
      throw diskFull()
    }
  }
  state.datastore = new Proxy(inner, {
    get (target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') {
        return value
      }
      switch (property) {
        case 'put':
        case 'delete':
          return async (...args: any[]) => {
            refuse()
            return value.apply(target, args)
          }
        case 'putMany':
        case 'deleteMany':
          return async function * (...args: any[]) {
            refuse()
            yield * value.apply(target, args)
          }
        case 'batch':
          return () => {
            const batch = value.apply(target)
            return {
              put: (...args: any[]) => batch.put(...args),
              delete: (...args: any[]) => batch.delete(...args),
              commit: async (...args: any[]) => {
                refuse()
                return batch.commit(...args)
              }
            }
          }
        default:
          return value.bind(target)
      }
    }
  })
  return state
}
