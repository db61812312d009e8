import { describe, expect, it } from 'vitest'
import { cutFraction, makeRowFitter } from '../../src/pipeline/fit-rows.js'
import type { DialectCapabilities } from '../../src/dialect.js'
import type { TableSchema } from '../../src/schema/types.js'

const caps = (maxTimestampPrecision: number): DialectCapabilities => ({
  transactionalDdl: true, bulkPath: 'copy', maxIdentifierLength: 63, identifierLengthUnit: 'bytes', schemas: true,
  enforcesForeignKeys: true, unvalidatedForeignKeys: true, textHoldsNul: false, floatHoldsNonFinite: true,
  maxTimestampPrecision, concurrentSnapshotReads: true, storesAnyValue: false,
})

describe('fractional seconds past the target\'s precision', () => {
  it('are cut, never rounded into the next second or day', () => {
    expect(cutFraction('2020-02-29 23:59:59.9999999', 6)).toBe('2020-02-29 23:59:59.999999')
    expect(cutFraction('2020-02-29 23:59:59.1234567+05:30', 6)).toBe('2020-02-29 23:59:59.123456+05:30')
    expect(cutFraction('08:30:00.0000001', 6)).toBe('08:30:00')
    expect(cutFraction('08:30:00.1200000', 6)).toBe('08:30:00.12')
    expect(cutFraction('08:30:00.123456', 6)).toBe('08:30:00.123456')
    expect(cutFraction('2020-01-01 00:00:00', 6)).toBe('2020-01-01 00:00:00')
  })

  it('count as fixes of the column in the row fitter, and only where the target keeps fewer digits', () => {
    const table: TableSchema = {
      name: 't',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false },
        { name: 'ts', type: { kind: 'timestamp', precision: 7 }, nativeType: '', nullable: true },
      ],
      uniques: [], indexes: [], foreignKeys: [],
    }
    const fixes: string[] = []
    const fit6 = makeRowFitter(table, table, caps(6))!
    expect(fit6([1, '2020-02-29 23:59:59.9999999'], () => {}, (c) => fixes.push(c))).toEqual([1, '2020-02-29 23:59:59.999999'])
    expect(fit6([2, '2020-02-29 23:59:59.5'], () => {}, (c) => fixes.push(c))).toEqual([2, '2020-02-29 23:59:59.5'])
    expect(fixes).toEqual(['ts'])
    const fit7 = makeRowFitter(table, table, { ...caps(7), floatHoldsNonFinite: true, textHoldsNul: true })
    expect(fit7).toBeUndefined()
  })
})
