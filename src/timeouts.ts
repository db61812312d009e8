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
