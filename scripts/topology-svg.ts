/**
 * The topology of a local testnet as an SVG: the nodes on a circle, each
 * session a solid line, each auxiliary (DHT) connection a dashed one. Pure:
 * the testnet script gathers the edges, this draws them.
 */

export interface TopologyNode {
  /** shown in the node's circle */
  label: string
  /** a line under the circle (e.g. "out 1/1 in 2 aux 1") */
  note?: string
}

export interface TopologyEdge {
  /** indexes into the node list */
  from: number
  to: number
  kind: 'session' | 'auxiliary'
}

const SIZE_PX = 640
const NODE_RADIUS_PX = 22

function escapeXml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** node `i` of `n` on the circle, the first at the top, clockwise */
export function circlePosition (i: number, n: number): { x: number, y: number } {
  const ring = SIZE_PX / 2 - NODE_RADIUS_PX * 3
  const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1)
  return { x: Math.round(SIZE_PX / 2 + ring * Math.cos(angle)), y: Math.round(SIZE_PX / 2 + ring * Math.sin(angle)) }
}

export function topologySvg (nodes: TopologyNode[], edges: TopologyEdge[], title = 'peergate testnet'): string {
  const pos = nodes.map((_, i) => circlePosition(i, nodes.length))
  const lines = edges.map(edge => {
    const a = pos[edge.from]
    const b = pos[edge.to]
    return edge.kind === 'session'
      ? `  <line class="session" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="#1f6feb" stroke-width="2"/>`
      : `  <line class="auxiliary" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="#8b949e" stroke-width="1" stroke-dasharray="5 4"/>`
  })
  const circles = nodes.map((node, i) => {
    const { x, y } = pos[i]
    return [
      `  <circle class="node" cx="${x}" cy="${y}" r="${NODE_RADIUS_PX}" fill="#ffffff" stroke="#24292f" stroke-width="2"/>`,
      `  <text x="${x}" y="${y + 5}" text-anchor="middle" font-size="14">${escapeXml(node.label)}</text>`,
      node.note == null ? '' : `  <text x="${x}" y="${y + NODE_RADIUS_PX + 16}" text-anchor="middle" font-size="11" fill="#57606a">${escapeXml(node.note)}</text>`
    ].filter(line => line !== '').join('\n')
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE_PX}" height="${SIZE_PX}" viewBox="0 0 ${SIZE_PX} ${SIZE_PX}" font-family="sans-serif">`,
    `  <title>${escapeXml(title)}</title>`,
    `  <text x="10" y="20" font-size="12" fill="#57606a">${escapeXml(title)}: ${nodes.length} nodes; sessions solid, auxiliary connections dashed</text>`,
    ...lines,
    ...circles,
    '</svg>',
    ''
  ].join('\n')
}
