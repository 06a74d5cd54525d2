import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { chromium } from 'playwright-core'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import { startApi } from './helpers.js'
import type { ApiServer, PeerNode } from '../../src/index.js'
import type { Browser, Page } from 'playwright-core'

const INSTALL_HINT = 'the live page test drives Debian\'s chromium: install it with `apt-get install -y chromium` (.ci/run does), or point PEERGATE_CHROMIUM at a Chromium executable'

/** Debian's chromium (or PEERGATE_CHROMIUM); the test fails, never skips, without one */
function chromiumPath (): string {
  const candidates = [process.env.PEERGATE_CHROMIUM, '/usr/bin/chromium']
  for (const candidate of candidates) {
    if (candidate != null && candidate !== '' && existsSync(candidate)) {
      return candidate
    }
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error(`no chromium found: ${INSTALL_HINT}`)
  }
}

describe('live page in a headless Chromium', () => {
  const net = new TestNetwork()
  let browser: Browser
  let page: Page
  let api: ApiServer
  let a: PeerNode

  before(async () => {
    const executablePath = chromiumPath()
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] })
    const dataDir = await net.dir()
    a = await net.node({ dataDir, pubsub: { gossipsub: { heartbeatInterval: 100 } } })
    ;({ api } = await startApi(a, dataDir))
    page = await browser.newPage()
    await page.goto(`${api.url}/`)
  })

  after(async () => {
    await browser?.close()
    await api?.stop()
    await net.cleanup()
  })

  it('shows the node, then a session as it opens', async () => {
    await page.locator('#summary', { hasText: a.peerId.toString() }).waitFor({ timeout: 5000 })
    assert.equal(await page.locator('#sessions tbody').innerText(), 'none')

    const b = await net.node()
    await b.connect(a.getMultiaddrs()[0])
    const row = page.locator('#sessions tbody tr', { hasText: b.peerId.toString() })
    await row.waitFor({ timeout: 5000 })
    const text = await row.innerText()
    assert.match(text, /inbound-session/)
    assert.ok(text.includes(b.did), text)
  })

  it('shows each gossip topic with its mesh peers', async () => {
    a.pubsub.subscribe('blocks')
    const row = page.locator('#gossip tbody tr', { hasText: 'blocks' })
    await row.waitFor({ timeout: 5000 })
    const b = await net.node({ pubsub: { gossipsub: { heartbeatInterval: 100 } } })
    b.pubsub.subscribe('blocks')
    await b.connect(a.getMultiaddrs()[0])
    await page.locator('#gossip tbody tr', { hasText: b.did }).waitFor({ timeout: 5000 })
    assert.match(await row.innerText(), /^blocks\s+1\s/)
  })

  it('shows a reject with its reason', async () => {
    const stranger = await net.node({ chain: { chainId: 'other-chain' } })
    const rejected = nextEvent(a, 'session:reject')
    await assert.rejects(stranger.connect(a.getMultiaddrs()[0]))
    await rejected
    const row = page.locator('#rejects tbody tr', { hasText: stranger.peerId.toString() })
    await row.waitFor({ timeout: 5000 })
    assert.match(await row.innerText(), new RegExp(ReasonCode.WRONG_CHAIN))
  })
})
