// Writes dist/build-info.json after `tsc`: the git commit the build came
// from, so that `peergate --version` and the peergate_build_info metric can
// name it. Outside a git checkout (a tarball, an npm install) or without git
// the file says nothing of a commit, and the build goes on.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** git's answer, trimmed; undefined when git is missing or this is no checkout */
function git (...args) {
  try {
    return execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8').trim()
  } catch {
    return undefined
  }
}

const outDir = process.argv[2] ?? 'dist'
const head = git('rev-parse', '--verify', 'HEAD')
// changes to tracked files make it another build than the commit says (git describe --dirty's word)
const dirty = head != null && git('status', '--porcelain', '--untracked-files=no') !== ''
const info = /^[0-9a-f]{40,64}$/.test(head ?? '') ? { commit: dirty ? `${head}-dirty` : head } : {}
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'build-info.json'), `${JSON.stringify(info)}\n`)
