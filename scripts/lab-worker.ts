/**
 * A scale-lab worker: one child process of `lab.ts` running a LabGroup (K
 * peergate nodes over TCP), driven over Node's IPC channel. Each request
 * `{ id, method, args }` calls the group's method and answers
 * `{ id, result }` or `{ id, error }`.
 */
import { LabGroup } from './lab-nodes.js'

const group = new LabGroup()
const methods: Record<string, (...args: any[]) => unknown> = {
  start: async (init) => group.start(init),
  publish: async (index, relay, n) => group.publish(index, relay, n),
  report: () => group.report(),
  sessions: () => group.sessions(),
  stop: async () => { await group.stop(); setImmediate(() => process.exit(0)) }
}

process.on('message', (request: { id: number, method: string, args: unknown[] }) => {
  Promise.resolve()
    .then(async () => methods[request.method](...request.args))
    .then(
      result => process.send?.({ id: request.id, result }),
      (err: Error) => process.send?.({ id: request.id, error: `${err.name}: ${err.message}` })
    )
})
process.on('disconnect', () => { void group.stop().finally(() => process.exit(0)) })
