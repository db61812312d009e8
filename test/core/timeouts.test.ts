import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { CONNECT_TIMEOUT_MS, STALL_TIMEOUT_MS, resolveTimeouts, urlTimeouts } from '../../src/timeouts.js'

describe('connection timeouts from a URL', () => {
  it('reads connect_timeout in seconds, connectTimeoutMs/connectTimeout and stallTimeoutMs in ms, and removes them', () => {
    const p = new URLSearchParams('connect_timeout=5&stallTimeoutMs=2000&sslmode=disable')
    expect(urlTimeouts(p, 'postgres://h/db')).toEqual({ connectMs: 5000, stallMs: 2000 })
    expect([...p.keys()]).toEqual(['sslmode'])
    expect(urlTimeouts(new URLSearchParams('connect_timeout=5&connectTimeoutMs=1500'), 'x')).toEqual({ connectMs: 1500 })
    expect(urlTimeouts(new URLSearchParams('connectTimeout=700'), 'x')).toEqual({ connectMs: 700 })
  })

  it('refuses a value that is not a number ≥ 0, naming the parameter', () => {
    expect(() => urlTimeouts(new URLSearchParams('stallTimeoutMs=soon'), 'mysql://h/db')).toThrow(UsageError)
    expect(() => urlTimeouts(new URLSearchParams('connect_timeout=-1'), 'x')).toThrow(/connect_timeout must be a number/)
  })

  it('takes the URL first, then the options, then the defaults', () => {
    expect(resolveTimeouts({}, {})).toEqual({ connectMs: CONNECT_TIMEOUT_MS, stallMs: STALL_TIMEOUT_MS })
    expect(resolveTimeouts({ stallMs: 0 }, { stallTimeoutMs: 9, connectTimeoutMs: 4 })).toEqual({ connectMs: 4, stallMs: 0 })
  })
})
