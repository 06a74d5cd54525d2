/**
 * When a local testnet has converged, as a pure function of what its nodes
 * printed, so that the testnet script and its test share one definition.
 */

/** One node as its own JSON lines describe it */
export interface NodeView {
  /** its peer id, once it printed its ready line */
  peerId?: string
  /** its outbound target, from its status lines; 0 for a DHT-only node */
  targetOutbound?: number
  /** session peer → direction, from its session:open and session:close lines */
  sessions: ReadonlyMap<string, string>
}

export interface Convergence {
  /**
   * every node that holds sessions is at its outbound target, every session
   * is seen from both ends, a node without a target (DHT-only) holds none,
   * and the session graph is connected
   */
  converged: boolean
  /** indexes of nodes below their outbound target (or not yet ready) */
  short: number[]
  /** indexes of nodes with a session the other end does not show (yet), as `a→b` */
  oneSided: string[]
  /** indexes of DHT-only nodes that hold a session */
  unexpected: number[]
  /** the groups of session-holding nodes that sessions connect, largest first */
  components: number[][]
}

/**
 * The testnet's definition of converged. Sessions connect nodes whatever
 * their direction; DHT-only nodes (target 0) are left out of the graph, as
 * they hold no session by design.
 */
export function convergence (nodes: readonly NodeView[]): Convergence {
  const index = new Map<string, number>()
  nodes.forEach((node, i) => { if (node.peerId != null) index.set(node.peerId, i) })
  const holders = nodes.map((node, i) => ({ node, i })).filter(({ node }) => node.targetOutbound == null || node.targetOutbound > 0).map(({ i }) => i)

  const short: number[] = []
  const oneSided: string[] = []
  const unexpected: number[] = []
  nodes.forEach((node, i) => {
    if (node.peerId == null || node.targetOutbound == null) {
      short.push(i)
      return
    }
    if (node.targetOutbound === 0) {
      if (node.sessions.size > 0) {
        unexpected.push(i)
      }
      return
    }
    let outbound = 0
    for (const [peer, direction] of node.sessions) {
      if (direction === 'outbound') {
        outbound++
      }
      const j = index.get(peer)
      const mirrored = j == null ? undefined : nodes[j].sessions.get(node.peerId)
      if (mirrored == null || mirrored === direction) {
        oneSided.push(`${i}${direction === 'outbound' ? '→' : '←'}${j ?? '?'}`)
      }
    }
    if (outbound < node.targetOutbound) {
      short.push(i)
    }
  })

  // connected components over the session-holding nodes
  const component = new Map<number, number>()
  const components: number[][] = []
  for (const start of holders) {
    if (component.has(start)) {
      continue
    }
    const members: number[] = []
    const queue = [start]
    component.set(start, components.length)
    while (queue.length > 0) {
      const i = queue.shift() as number
      members.push(i)
      for (const peer of nodes[i].sessions.keys()) {
        const j = index.get(peer)
        if (j != null && holders.includes(j) && !component.has(j)) {
          component.set(j, components.length)
          queue.push(j)
        }
      }
    }
    components.push(members.sort((a, b) => a - b))
  }
  components.sort((a, b) => b.length - a.length)

  return {
    converged: short.length === 0 && oneSided.length === 0 && unexpected.length === 0 && components.length === 1,
    short,
    oneSided,
    unexpected,
    components
  }
}
