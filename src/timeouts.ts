import type { ConnectOptions } from './dialect.js'
import { UsageError } from './errors.js'

/**
 * The timeouts of a server connection: connecting, and a stall while rows stream. Never a statement timeout:
 * a long `CREATE INDEX` or a count that sends nothing is never cut short.
 */
export interface Timeouts {
  /** Connecting (TCP, TLS, authentication) must finish within this many milliseconds; 0: no limit. */
  connectMs: number
  /** No byte either way for this long while rows stream ends the run (resumable); 0: never. */
  stallMs: number
}

/** Default connect timeout: 30 s. */
export const CONNECT_TIMEOUT_MS = 30_000
/** Default stall timeout: 5 minutes. */
export const STALL_TIMEOUT_MS = 300_000
/** TCP keepalive probes start after this long idle, so a peer that vanished is noticed even between queries. */
export const KEEPALIVE_DELAY_MS = 30_000

/**
 * The timeouts a URL sets, removed from its parameters (the drivers would pass them on): `connect_timeout` in
 * seconds (as libpq and the MySQL server count it), `connectTimeoutMs` or `connectTimeout` in milliseconds (as
 * mysql2 counts it), and `stallTimeoutMs`. A value that is not a number ≥ 0 is a usage error naming the URL
 * (`description`, already redacted).
 */
export function urlTimeouts(params: URLSearchParams, description: string): Partial<Timeouts> {
  const number = (name: string, scale: number): number | undefined => {
    const v = params.get(name)
    params.delete(name)
    if (v === null) return undefined
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number ≥ 0, not ${JSON.stringify(v)} (${description})`)
    return n * scale
  }
  const seconds = number('connect_timeout', 1000)
  const ms = number('connectTimeoutMs', 1) ?? number('connectTimeout', 1)
  const out: Partial<Timeouts> = {}
  const connect = ms ?? seconds
  if (connect !== undefined) out.connectMs = connect
  const stall = number('stallTimeoutMs', 1)
  if (stall !== undefined) out.stallMs = stall
  return out
}

/** A connection's timeouts: the URL's, else the options', else the defaults. */
export function resolveTimeouts(url: Partial<Timeouts>, options: Pick<ConnectOptions, 'connectTimeoutMs' | 'stallTimeoutMs'>): Timeouts {
  return {
    connectMs: url.connectMs ?? options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    stallMs: url.stallMs ?? options.stallTimeoutMs ?? STALL_TIMEOUT_MS,
  }
}

/** How many reads or writes have the stall timeout armed on a socket (nested arming keeps one timer). */
const armedOn = new WeakMap<object, number>()

/** The socket a driver connection streams over, as the stall timeout needs it. */
export interface StallSocket {
  readonly destroyed: boolean
  setTimeout(ms: number): unknown
  on(event: 'timeout', listener: () => void): unknown
  off(event: 'timeout', listener: () => void): unknown
  destroy(error?: Error): unknown
}

/**
 * Arms the stall timeout on a socket while rows stream: no byte either way for `ms` milliseconds destroys the
 * socket with an `ETIMEDOUT` error naming `what` (the driver then fails the command in flight as a lost
 * connection: a resumable `ConnectionError`). TCP keepalive alone does not end such a stall: a frozen server's
 * kernel still answers the probes. `onStall` sees the error first. Returns the disarm function (idempotent);
 * `ms` of 0 or a socket that is gone arms nothing.
 */
export function armSocketStall(socket: StallSocket | undefined, ms: number, what: string, onStall?: (error: Error) => void): () => void {
  if (!(ms > 0) || !socket || typeof socket.setTimeout !== 'function' || socket.destroyed) return () => {}
  const armed = (armedOn.get(socket) ?? 0) + 1
  armedOn.set(socket, armed)
  const onTimeout = () => {
    const error = Object.assign(new Error(`no byte sent to or received from ${what} for ${ms / 1000} s (stall timeout: stallTimeoutMs)`), { code: 'ETIMEDOUT' })
    onStall?.(error)
    socket.destroy(error)
  }
  if (armed === 1) socket.setTimeout(ms)
  socket.on('timeout', onTimeout)
  let done = false
  return () => {
    if (done) return
    done = true
    socket.off('timeout', onTimeout)
    const left = (armedOn.get(socket) ?? 1) - 1
    armedOn.set(socket, left)
    if (left === 0) socket.setTimeout(0)
  }
}
