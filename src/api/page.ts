import { PAGE_REFRESH_MS } from './constants.js'

/**
 * The live page of `GET /`: one self-contained HTML document (no external
 * assets) whose script reads the JSON endpoints every PAGE_REFRESH_MS and
 * redraws the tables. Peer data goes in through textContent only, never as
 * markup.
 */
export function livePage (): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>peergate</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; margin-bottom: 0; }
h2 { font-size: 1.05em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #ddd; font-family: ui-monospace, monospace; font-size: 12px; }
th { background: #f3f3f3; font-family: system-ui, sans-serif; }
td.empty { color: #888; font-style: italic; }
#summary, #error { margin: .3em 0; }
#error { color: #b00; }
</style>
</head>
<body>
<h1>peergate</h1>
<div id="summary">loading…</div>
<div id="error"></div>
<h2>Sessions</h2>
<table id="sessions"><thead><tr><th>peer</th><th>DID</th><th>role</th><th>remote address</th><th>agent</th><th>head</th><th>since</th><th>RTT ms</th></tr></thead><tbody></tbody></table>
<h2>Handshakes in flight</h2>
<table id="handshakes"><thead><tr><th>peer</th><th>direction</th><th>remote address</th><th>since</th></tr></thead><tbody></tbody></table>
<h2>Auxiliary connections</h2>
<table id="auxiliary"><thead><tr><th>peer</th><th>direction</th><th>remote address</th><th>agent</th><th>since</th></tr></thead><tbody></tbody></table>
<h2>Gossip</h2>
<table id="gossip"><thead><tr><th>topic</th><th>mesh peers</th><th>mesh</th><th>published</th><th>received</th><th>duplicate</th><th>rejected</th></tr></thead><tbody></tbody></table>
<h2>Contacts</h2>
<table id="contacts"><thead><tr><th>peer</th><th>DID</th><th>source</th><th>failures</th><th>next attempt</th><th>backoff reason</th><th>last seen</th></tr></thead><tbody></tbody></table>
<h2>Recent rejects and disconnects</h2>
<table id="rejects"><thead><tr><th>time</th><th>kind</th><th>peer</th><th>DID</th><th>reason</th><th>side</th><th>app code</th><th>message</th></tr></thead><tbody></tbody></table>
<script>
const REFRESH_MS = ${PAGE_REFRESH_MS}
const time = (ms) => ms ? new Date(ms).toLocaleTimeString() : ''
function fill (id, rows, columns) {
  const body = document.querySelector('#' + id + ' tbody')
  body.replaceChildren()
  if (rows.length === 0) {
    const tr = body.insertRow()
    const td = tr.insertCell()
    td.colSpan = columns
    td.className = 'empty'
    td.textContent = 'none'
    return
  }
  for (const row of rows) {
    const tr = body.insertRow()
    for (const value of row) {
      tr.insertCell().textContent = value == null ? '' : String(value)
    }
  }
}
async function get (path) {
  const res = await fetch(path, { cache: 'no-store' })
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status)
  return res.json()
}
async function refresh () {
  try {
    const [status, peers, contacts, rejects, gossip] = await Promise.all([get('/status'), get('/peers'), get('/contacts'), get('/rejects'), get('/gossip')])
    const s = status.sessions
    document.getElementById('summary').textContent = status.peerId + ' · ' + status.did + ' · chain ' + status.chain.chainId +
      ' · sessions ' + s.outbound + '/' + s.targetOutbound + ' out, ' + s.inbound + '/' + s.maxInbound + ' in (' + s.maxInboundPerIp + ' per IP) · ' +
      status.dialing + ' dialing · ' + status.contacts + ' contacts' +
      (status.storage && status.storage.state === 'failing' ? ' · storage failing since ' + time(status.storage.since) + ': ' + status.storage.error : '')
    const sessions = peers.filter(p => p.role === 'outbound-session' || p.role === 'inbound-session')
    fill('sessions', sessions.map(p => [p.peerId, p.did, p.role, p.remoteAddr, p.agent, p.head ? p.head.height : '', time(p.since), p.rttMs]), 8)
    fill('handshakes', peers.filter(p => p.role === 'handshaking').map(p => [p.peerId, p.direction, p.remoteAddr, time(p.since)]), 4)
    fill('auxiliary', peers.filter(p => p.role === 'auxiliary').map(p => [p.peerId, p.direction, p.remoteAddr, p.agent, time(p.since)]), 5)
    fill('gossip', gossip.map(t => [t.topic, t.meshPeers.length, t.meshPeers.map(p => p.did || p.peerId).join(', '), t.published, t.received, t.duplicate, t.rejected]), 7)
    fill('contacts', contacts.map(c => [c.peerId, c.did, c.source, c.failures, c.nextAttempt > Date.now() ? time(c.nextAttempt) : 'now', c.bannedUntil != null ? 'banned by this node until ' + time(c.bannedUntil) : c.backoffReason, time(c.lastSeen)]), 7)
    fill('rejects', rejects.map(r => [time(r.time), r.kind, r.peerId, r.did, r.reason, r.side, r.appCode, r.message]), 8)
    document.getElementById('error').textContent = ''
  } catch (err) {
    document.getElementById('error').textContent = 'cannot reach the node: ' + err.message
  }
}
refresh()
setInterval(refresh, REFRESH_MS)
</script>
</body>
</html>
`
}
