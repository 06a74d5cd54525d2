import { readFile } from 'node:fs/promises'

/** Reads a file of the repository, whether the test runs from test/ or dist/test/ */
export async function readRepoFile (path: string): Promise<string> {
  let dir = new URL('./', import.meta.url)
  for (let i = 0; i < 5; i++) {
    try {
      return await readFile(new URL(path, dir), 'utf8')
    } catch {
      dir = new URL('../', dir)
    }
  }
  throw new Error(`${path} not found`)
}
