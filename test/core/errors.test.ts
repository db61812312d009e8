import { describe, expect, it } from 'vitest'
import { ConnectionError, FAILURE_KINDS, RowError, redact } from '../../src/errors.js'

describe('errors', () => {
  it('masks passwords in URLs and key=value strings', () => {
    expect(redact('cannot connect to postgres://app:s3cr%40t@db:5432/x')).toBe('cannot connect to postgres://app:***@db:5432/x')
    expect(redact('Server=db;User=sa;Password=Passw0rd!;')).toBe('Server=db;User=sa;Password=***;')
  })

  it('never keeps a password in an error message', () => {
    const e = new ConnectionError('could not reach mysql://root:hunter2@127.0.0.1/x')
    expect(e.message).not.toContain('hunter2')
    expect(e.code).toBe('connection')
  })

  it('row errors carry the table, key, column, value and kind from the catalogue', () => {
    const cause = new Error('driver said no')
    const e = new RowError('type_conversion', 'bad', { table: 't', key: { id: 7 }, column: 'c', value: 'x', cause })
    expect(e).toMatchObject({ code: 'type_conversion', table: 't', key: { id: 7 }, column: 'c', value: 'x', name: 'RowError' })
    expect(e.cause).toBe(cause)
    expect(Object.keys(FAILURE_KINDS)).toContain(e.code)
  })
})
