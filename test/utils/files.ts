import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** The repository's root, whether the test runs from test/ or dist/test/ */
export function repoRoot (): string {
  let dir = fileURLToPath(new URL('./', import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = join(dir, '..')
    if (parent === dir) {
      throw new Error('package.json not found above the test')
    }
    dir = parent
  }
  return dir
}
