// Builds dist/ (npm run build) only when it is missing or older than a
// source: a TypeScript file of the project (tsconfig.json's include) newer
// than its compiled .js, or without one, or tsconfig.json newer than
// dist/src/index.js. `npm run build` empties dist/ first, which pulls the
// files from under any node running from this checkout, so the scripts that
// run from dist/ (npm run testnet) skip it when dist/ is current.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const SOURCE_DIRS = ['src', 'test', 'scripts', 'examples']

/** mtime in ms, or undefined when the file does not exist */
function mtime (path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

/** why dist/ is stale, or undefined when it is current */
function staleness () {
  const index = mtime('dist/src/index.js')
  if (index == null) {
    return 'dist/ has not been built'
  }
  if ((mtime('tsconfig.json') ?? 0) > index) {
    return 'tsconfig.json is newer than dist/'
  }
  for (const dir of SOURCE_DIRS) {
    for (const file of readdirSync(dir, { recursive: true })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) {
        continue
      }
      const source = join(dir, file)
      const built = mtime(join('dist', source.replace(/\.ts$/, '.js')))
      if (built == null) {
        return `${source} has not been built`
      }
      if (mtime(source) > built) {
        return `${source} is newer than dist/`
      }
    }
  }
  return undefined
}

const why = staleness()
if (why != null) {
  process.stderr.write(`${why}: rebuilding dist/ (npm run build), which replaces it under any node running from this checkout\n`)
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
  process.exit(build.status ?? 1)
}
