/** The value of one sample of a Prometheus text exposition, undefined when absent */
export function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match?.[1] !== name) {
      continue
    }
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      return Number(match[3])
    }
  }
  return undefined
}
