import { describe, expect, it } from 'vitest'
import { ConversionFailure, canonicalDecimal, canonicalTimestamp, canonicalTimestampTz, makeConverter, shortestFloat32 } from '../../src/schema/values.js'

describe('makeConverter', () => {
  it('converts integers exactly, bigint past 2^53, and rejects junk with a reason', () => {
    const c = makeConverter({ kind: 'int64' })
    expect(c('42')).toBe(42)
    expect(c(' -7 ')).toBe(-7)
    expect(c('9007199254740993')).toBe(9007199254740993n)
    expect(c(9223372036854775807n)).toBe(9223372036854775807n)
    expect(c('12.0')).toBe(12)
    expect(c(null)).toBeNull()
    const bad = c('lots-of-it')
    expect(bad).toBeInstanceOf(ConversionFailure)
    expect((bad as ConversionFailure).reason).toContain('lots-of-it')
    expect(c('9223372036854775808')).toMatchObject({ kind: 'out_of_range' })
    // SQLite turns that text into the REAL 2^63, which must not pass as int64 either
    expect(c(2 ** 63)).toMatchObject({ kind: 'out_of_range' })
    expect(c(2 ** 62)).toBe(2n ** 62n)
  })

  it('checks integer widths and unsigned ranges', () => {
    expect(makeConverter({ kind: 'int16' })(32768)).toMatchObject({ kind: 'out_of_range' })
    expect(makeConverter({ kind: 'int16' })(-32768)).toBe(-32768)
    expect(makeConverter({ kind: 'int64', unsigned: true })('18446744073709551615')).toBe(18446744073709551615n)
    expect(makeConverter({ kind: 'int32', unsigned: true })(-1)).toMatchObject({ kind: 'out_of_range' })
  })

  it('keeps decimals exact as strings and checks precision', () => {
    const c = makeConverter({ kind: 'decimal', precision: 38, scale: 10 })
    expect(c('9999999999999999999999999999.9999999999')).toBe('9999999999999999999999999999.9999999999')
    expect(c('+001.50')).toBe('1.50')
    expect(c(1.5)).toBe('1.5')
    expect(c('1e3')).toBe('1000')
    expect(makeConverter({ kind: 'decimal', precision: 4, scale: 2 })('123.4')).toMatchObject({ kind: 'out_of_range' })
    // a value the target would round is refused, trailing zeros are not
    expect(makeConverter({ kind: 'decimal', precision: 10, scale: 2 })('12.345')).toMatchObject({ kind: 'truncation' })
    expect(makeConverter({ kind: 'decimal', precision: 10, scale: 2 })('12.3400')).toBe('12.34')
    expect(c('abc')).toBeInstanceOf(ConversionFailure)
  })

  it('rejects the seed\'s junk timestamp and normalises real ones without Date', () => {
    const c = makeConverter({ kind: 'timestamp', precision: 6 })
    expect(c('01/14/10 1')).toBeInstanceOf(ConversionFailure)
    expect(c('2010-01-14T08:30:00.250000')).toBe('2010-01-14 08:30:00.25')
    expect(c('2024-02-29 23:59:59.000001')).toBe('2024-02-29 23:59:59.000001')
    expect(c('2023-02-29 00:00:00')).toBeInstanceOf(ConversionFailure)
    expect(c('2010-01-14')).toBe('2010-01-14 00:00:00')
  })

  it('keeps offsets of timestamptz and reads a bare timestamp as UTC', () => {
    expect(canonicalTimestampTz('2010-01-14 08:30:00+0530')).toBe('2010-01-14 08:30:00+05:30')
    expect(canonicalTimestampTz('2010-01-14T08:30:00Z')).toBe('2010-01-14 08:30:00+00:00')
    expect(makeConverter({ kind: 'timestamptz' })('2010-01-14 08:30:00')).toBe('2010-01-14 08:30:00+00:00')
  })

  it('handles booleans, floats with NaN and Infinity, uuids and JSON', () => {
    const b = makeConverter({ kind: 'boolean' })
    expect([b(1), b(0), b('t'), b('false')]).toEqual([true, false, true, false])
    expect(b(2)).toBeInstanceOf(ConversionFailure)
    const f = makeConverter({ kind: 'float64' })
    expect(Number.isNaN(f('NaN') as number)).toBe(true)
    expect(f('-Infinity')).toBe(-Infinity)
    expect(f('1.5e3')).toBe(1500)
    expect(makeConverter({ kind: 'uuid' })('6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff')
    expect(makeConverter({ kind: 'json' })('{"a":')).toBeInstanceOf(ConversionFailure)
  })

  it('rejects bytes that are not UTF-8 in a text column unless a decoder is given', () => {
    const latin1 = Buffer.from([0x4d, 0xe9, 0x64]) // "Méd" in latin1
    expect(makeConverter({ kind: 'text' })(latin1)).toBeInstanceOf(ConversionFailure)
    expect(makeConverter({ kind: 'text' }, { decodeInvalidText: (b) => Buffer.from(b).toString('latin1') })(latin1)).toBe('Méd')
  })

  it('canonicalises decimals and timestamps', () => {
    expect(canonicalDecimal('-0.0')).toBe('0.0')
    expect(canonicalDecimal('1.23e-3')).toBe('0.00123')
    expect(canonicalTimestamp('2010-01-14 08:30')).toBe('2010-01-14 08:30:00')
  })
})

describe('reject messages show the value', () => {
  it('names a number that is not a date, with what it is', () => {
    const bad = makeConverter({ kind: 'date' })(20240101)
    expect(bad).toBeInstanceOf(ConversionFailure)
    expect((bad as ConversionFailure).reason).toBe('20240101 (a number) is not a date (YYYY-MM-DD)')
  })

  it('cuts a long value to 80 characters', () => {
    const bad = makeConverter({ kind: 'uuid' })('x'.repeat(1000)) as ConversionFailure
    expect(bad).toBeInstanceOf(ConversionFailure)
    expect(bad.reason.startsWith(`"${'x'.repeat(78)}…`)).toBe(true)
    expect(bad.reason.length).toBeLessThan(120)
  })

  it('shows bytes as hex', () => {
    const bad = makeConverter({ kind: 'int32' })(new Uint8Array([1, 2, 255])) as ConversionFailure
    expect(bad.reason).toContain('0x0102ff')
  })
})

describe('shortestFloat32', () => {
  it('names a single-precision value by its shortest decimal', () => {
    expect(shortestFloat32(Math.fround(9.8))).toBe(9.8)
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1)
    expect(shortestFloat32(Math.fround(1e-7))).toBe(1e-7)
    expect(shortestFloat32(Math.fround(16777217))).toBe(16777216)
    expect(Object.is(shortestFloat32(-0), -0)).toBe(true)
    expect(shortestFloat32(Number.NaN)).toBeNaN()
  })
})
