/**
 * Issue 22, faults: a peer lost mid-session. The peer is a real `peergate
 * start` process; the node that keeps its contact dials it from its address
 * book. Killed (kill -9), its session ends on the node at once (its OS closes
 * the connection); frozen (SIGSTOP: a host that is gone without a word), it
 * ends within the documented bound, PEER_LOSS_BOUND_MS (libp2p's connection
 * monitor). Either way the contact backs off, its dials while the peer is
 * away wait out the doubling backoff, and once the peer is back (restarted
 * on its data dir and port, or thawed) the node dials it and has a session
 * again.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { LocalReason, ReasonCode } from '../../src/index.js'
import { PEER_LOSS_BOUND_MS } from '../../src/node/constants.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import { freePort, startCli, type CliNode } from '../utils/processes.js'
import type { DialEndDetail, PeerNode, Session, SessionCloseDetail } from '../../src/index.js'

/** timers on a loaded test machine run late: the slack allowed past a bound */
const TIMER_SLACK_MS = 3_000
/** the killed peer stays away until the node failed this many dials of it */
const FAILED_DIALS_AWAY = 3
/** the backoff's first failure wait (addressbook DEFAULT_INITIAL_BACKOFF_MS) less its 20 % jitter */
const MIN_FIRST_FAILURE_WAIT_MS = 800
/** the wait after a clean end (CLEAN_CLOSE_MIN_MS, CLEAN_CLOSE_MAX_MS) */
const CLEAN_CLOSE_MS = [1_000, 5_000]

/** A peer process on its own data dir and port, which it keeps across restarts */
interface LostPeer {
  peerId: string
  address: string
  process: CliNode
  /** starts it (again) on its data dir and port */
  start(): Promise<CliNode>
  isPeer(session: Session): boolean
}

// the two cases run side by side, each with its own peer: most of their time
// is the keep-alive's bound and the backoff's waits, not work
describe('a peer lost mid-session', { concurrency: true }, () => {
  const net = new TestNetwork()
  const processes: CliNode[] = []
  let node: PeerNode

  before(async () => {
    node = await net.node({ dial: { autoDial: true } })
  })
  after(async () => {
    for (const peer of processes) {
      peer.child.kill('SIGKILL')
    }
    await net.cleanup()
  })

  /** a peer that dials nobody (--max-outbound 0), so each session again is the node's redial, in a session with the node */
  async function lostPeer (): Promise<LostPeer> {
    const dataDir = await net.dir()
    const port = await freePort()
    const run = async (): Promise<CliNode> => {
      const started = await startCli(['--data-dir', dataDir, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--chain-id', 'test-chain', '--no-api', '--status-interval', '0', '--max-outbound', '0'])
      processes.push(started)
      return started
    }
    const first = await run()
    const peerId = first.ready.peerId
    const peer: LostPeer = {
      peerId,
      address: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`,
      process: first,
      start: async () => {
        peer.process = await run()
        return peer.process
      },
      isPeer: (session) => session.peerId.toString() === peerId
    }
    const opened = nextEvent<Session>(node, 'session:open', peer.isPeer, 10_000)
    await node.addContact(peer.address)
    await opened
    return peer
  }

  /** the peer's contact once the book has recorded `reason` */
  async function backoffOf (peer: LostPeer, reason: string): Promise<{ nextAttempt: number, failures: number }> {
    for (let i = 0; i < 100; i++) {
      const contact = node.contacts().find(c => c.peerId.toString() === peer.peerId)
      if (contact?.backoffReason === reason) {
        return contact
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    throw new Error(`the contact never backed off with ${reason}`)
  }

  it('killed: the session ends at once, the contact backs off, and the peer is dialed again once it is back', async (t) => {
    const peer = await lostPeer()
    const { peerId, isPeer } = peer

    const killedAt = Date.now()
    const closed = nextEvent<SessionCloseDetail>(node, 'session:close', (detail) => isPeer(detail.session), PEER_LOSS_BOUND_MS + TIMER_SLACK_MS)
    peer.process.child.kill('SIGKILL')
    const close = await closed
    const closedAt = Date.now()
    assert.equal(close.reason, ReasonCode.CONNECTION_CLOSED)
    assert.ok(closedAt - killedAt < PEER_LOSS_BOUND_MS, `session ended ${closedAt - killedAt} ms after the kill`)
    const clean = await backoffOf(peer, LocalReason.SESSION_ENDED)
    assert.ok(clean.nextAttempt >= killedAt + CLEAN_CLOSE_MS[0] && clean.nextAttempt <= closedAt + CLEAN_CLOSE_MS[1], 'a clean end waits 1 s to 5 s')

    // while it is away, each failed dial waits out a longer backoff
    const failed: number[] = []
    const errors: Array<Error | undefined> = []
    await peer.process.exited
    await new Promise<void>((resolve, reject) => {
      // the clean end's wait, then 1 s and 2 s (less jitter), and the ticks
      const timer = setTimeout(() => { reject(new Error(`${failed.length} failed dials of the peer while it was away`)) }, 15_000)
      const onDialEnd = (evt: CustomEvent<DialEndDetail>): void => {
        if (evt.detail.peerId.toString() === peerId && evt.detail.result === 'failed') {
          errors.push(evt.detail.error)
        }
        if (evt.detail.peerId.toString() === peerId && evt.detail.result === 'failed' && failed.push(Date.now()) === FAILED_DIALS_AWAY) {
          clearTimeout(timer)
          node.removeEventListener('dial:end', onDialEnd)
          resolve()
        }
      }
      node.addEventListener('dial:end', onDialEnd)
    })
    assert.ok(failed[0] >= clean.nextAttempt, 'the first dial waited out the clean end\'s wait')
    // each failed dial says what it failed with: nothing listens on the port
    for (const error of errors) {
      assert.ok(error instanceof Error, 'dial:end carries the error')
    }
    for (let i = 1; i < failed.length; i++) {
      assert.ok(failed[i] - failed[i - 1] >= MIN_FIRST_FAILURE_WAIT_MS * 2 ** (i - 1), `dial ${i + 1} came ${failed[i] - failed[i - 1]} ms after dial ${i}`)
    }
    const away = await backoffOf(peer, LocalReason.DIAL_FAILED)
    assert.equal(away.failures, failed.length)

    // back on its data dir and port: the same peer, dialed again
    const reopened = nextEvent<Session>(node, 'session:open', isPeer, 20_000)
    const restarted = await peer.start()
    assert.equal(restarted.ready.peerId, peerId)
    const session = await reopened
    assert.equal(session.direction, 'outbound')
    t.diagnostic(`session ended ${closedAt - killedAt} ms after the kill; ${FAILED_DIALS_AWAY} failed dials ${failed.slice(1).map((at, i) => at - failed[i]).join(' and ')} ms apart; session again ${Date.now() - closedAt} ms after the end`)
  })

  it(`frozen (SIGSTOP): the session ends within ${PEER_LOSS_BOUND_MS} ms, and the peer is dialed again once it thaws`, async (t) => {
    const peer = await lostPeer()
    const frozenAt = Date.now()
    const closed = nextEvent<SessionCloseDetail>(node, 'session:close', (detail) => peer.isPeer(detail.session), PEER_LOSS_BOUND_MS + TIMER_SLACK_MS)
    peer.process.child.kill('SIGSTOP')
    try {
      const close = await closed
      const elapsed = Date.now() - frozenAt
      assert.equal(close.reason, ReasonCode.CONNECTION_CLOSED)
      assert.ok(elapsed <= PEER_LOSS_BOUND_MS + TIMER_SLACK_MS, `session ended ${elapsed} ms after the freeze`)
      t.diagnostic(`session ended ${elapsed} ms after the freeze`)
      await backoffOf(peer, LocalReason.SESSION_ENDED)
    } finally {
      peer.process.child.kill('SIGCONT')
    }
    const session = await nextEvent<Session>(node, 'session:open', peer.isPeer, 15_000)
    assert.equal(session.direction, 'outbound')
  })
})
