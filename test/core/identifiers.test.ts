import { describe, expect, it } from 'vitest'
import { SchemaError } from '../../src/errors.js'
import { fitIdentifiers, shortenIdentifier } from '../../src/schema/identifiers.js'
import type { DatabaseSchema } from '../../src/schema/types.js'

const caps = { maxIdentifierLength: 63, identifierLengthUnit: 'bytes' as const }

function schemaWith(tables: string[], columns: string[] = ['id']): DatabaseSchema {
  return {
    dialect: 'test',
    objects: [],
    tables: tables.map((name) => ({
      name,
      columns: columns.map((c) => ({ name: c, type: { kind: 'int32' as const }, nativeType: '', nullable: true })),
      uniques: [],
      indexes: [],
      foreignKeys: [],
    })),
  }
}

describe('identifiers', () => {
  it('shortens deterministically, within the byte limit, keeping a readable prefix', () => {
    const long = 'individual_registration_program_encounter_type_follow_up_visit_cancelled'
    const a = shortenIdentifier(long, 63, 'bytes')
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(63)
    expect(a.startsWith('individual_registration_program')).toBe(true)
    expect(shortenIdentifier(long, 63, 'bytes')).toBe(a)
  })

  it('gives two long names with the same 63-byte prefix different names (the ETL seed\'s clash)', () => {
    const prefix = 'program_encounter_'.padEnd(70, 'x')
    const { schema, renames } = fitIdentifiers(schemaWith([`${prefix}_enrolment`, `${prefix}_exit`]), caps)
    const [a, b] = schema.tables.map((t) => t.name)
    expect(a).not.toBe(b)
    expect(renames.filter((r) => r.reason === 'too_long')).toHaveLength(2)
    expect(schema.tables[0]!.origin).toBe(`${prefix}_enrolment`)
  })

  it('counts bytes, not characters, for multi-byte names', () => {
    const name = 'é'.repeat(40) // 80 bytes, 40 characters
    expect(Buffer.byteLength(shortenIdentifier(name, 63, 'bytes'))).toBeLessThanOrEqual(63)
    expect(shortenIdentifier(name, 64, 'chars')).toBe(name)
  })

  it('refuses long names when told to, listing them', () => {
    const long = 'a'.repeat(70)
    expect(() => fitIdentifiers(schemaWith([long]), caps, { tooLong: 'error' })).toThrow(SchemaError)
    expect(() => fitIdentifiers(schemaWith([long]), caps, { tooLong: 'error' })).toThrow(/a{70}/)
  })

  it('never lets two columns silently become one when folding case', () => {
    expect(() => fitIdentifiers(schemaWith(['t'], ['Name', 'name']), caps, { case: 'lower' })).toThrow(/both become "name"/)
    const { schema } = fitIdentifiers(schemaWith(['T'], ['Name']), caps, { case: 'lower' })
    expect(schema.tables[0]!.name).toBe('t')
    expect(schema.tables[0]!.columns[0]!.name).toBe('name')
  })
})
