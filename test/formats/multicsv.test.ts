import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection, ReadBatch } from '../../src/dialect.js'
import { ferry } from '../../src/ferry.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { splitCommand, splitMultiCsv } from '../../src/cli/commands/split.js'

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'dbferry-multicsv-'))
}

async function readAll(conn: Connection, table: TableSchema): Promise<{ rows: Row[]; rejected: ReadBatch['rejected'] }> {
  const rows: Row[] = []
  const rejected: ReadBatch['rejected'] = []
  for await (const b of conn.read(table, { batchRows: 2, batchBytes: 1 << 30 })) {
    rows.push(...b.rows)
    rejected.push(...b.rejected)
  }
  return { rows, rejected }
}

/**
 * A web2py-style export, written as DAL.export_to_csv_file writes it: CRLF, `table.column` headers, `<NULL>`,
 * two blank lines after each table, `END` without a newline. Children come before their parents
 * (or_organisation references or_sector, which appears later) and one value spans lines.
 */
const EXPORT =
  'TABLE or_organisation\r\n' +
  'or_organisation.id,or_organisation.name,or_organisation.sector_id,or_organisation.description\r\n' +
  '1,Médecins Sans Frontières,2,"Emergency care,\r\nin two lines"\r\n' +
  '2,"The ""Red"" Cross",<NULL>,\r\n' +
  '\r\n\r\n' +
  'TABLE or_office\r\n' +
  'or_office.id,or_office.organisation_id,or_office.name\r\n' +
  '1,1,HQ\r\n' +
  '2,2,Field\r\n' +
  '\r\n\r\n' +
  'TABLE or_sector\r\n' +
  'or_sector.id,or_sector.name,or_sector.active\r\n' +
  '1,Health,True\r\n' +
  '2,Shelter,False\r\n' +
  '\r\n\r\n' +
  'TABLE msg_log\r\n' +
  '\r\n\r\n' +
  'END'

describe('multicsv source', () => {
  it('reads every table of a web2py export with NULL vs empty, multi-line values and inferred types', async () => {
    const dir = tmp()
    const file = join(dir, 'export.csv')
    writeFileSync(file, EXPORT)
    const { connection } = await connect(`multicsv:${file}`)
    try {
      const schema = await connection.introspect()
      expect(schema.tables.map((t) => t.name)).toEqual(['or_organisation', 'or_office', 'or_sector'])
      const org = schema.tables[0]!
      expect(org.columns.map((c) => [c.name, c.type.kind])).toEqual([
        ['id', 'int32'],
        ['name', 'text'],
        ['sector_id', 'int32'],
        ['description', 'text'],
      ])
      expect(org.primaryKey).toEqual({ columns: ['id'] })
      expect((await readAll(connection, org)).rows).toEqual([
        [1, 'Médecins Sans Frontières', 2, 'Emergency care,\r\nin two lines'],
        [2, 'The "Red" Cross', null, ''],
      ])
      const sector = schema.tables[2]!
      expect(sector.columns[2]!.type.kind).toBe('boolean')
      expect((await readAll(connection, sector)).rows).toEqual([
        [1, 'Health', true],
        [2, 'Shelter', false],
      ])
    } finally {
      await connection.close()
    }
  })

  it('reports a malformed record with its line in the original file and loads the rest', async () => {
    const dir = tmp()
    const file = join(dir, 'bad.csv')
    writeFileSync(file, 'TABLE t\r\nt.id,t.name\r\n1,a\r\n2,"b"x\r\n3,c,extra\r\n4,d\r\n\r\n\r\nEND')
    const { connection } = await connect(`multicsv:${file}`)
    try {
      const [t] = (await connection.introspect()).tables
      const { rows, rejected } = await readAll(connection, t!)
      expect(rows).toEqual([
        [1, 'a'],
        [4, 'd'],
      ])
      expect(rejected.map((e) => [e.code, e.key])).toEqual([
        ['malformed_record', 'line 4'],
        ['malformed_record', 'line 5'],
      ])
    } finally {
      await connection.close()
    }
  })
})

describe('multicsv target', () => {
  it('round-trips through ferry (multicsv → multicsv) and writes tables parents first', async () => {
    const dir = tmp()
    const file = join(dir, 'export.csv')
    writeFileSync(file, EXPORT)
    const out = join(dir, 'copy.csv')
    const report = await ferry({
      from: `multicsv:${file}`,
      to: `multicsv:${out}`,
      foreignKeys: [
        { from: 'or_organisation.sector_id', to: 'or_sector.id' },
        { from: 'or_office.organisation_id', to: 'or_organisation.id' },
      ],
    })
    expect(report.ok).toBe(true)
    expect(report.totals).toMatchObject({ read: 6, written: 6, rejected: 0 })
    const text = readFileSync(out, 'utf8')
    expect(text.match(/^TABLE .*$/gm)!.map((l) => l.trim())).toEqual(['TABLE or_sector', 'TABLE or_organisation', 'TABLE or_office'])
    expect(text).toContain(
      'TABLE or_organisation\r\nor_organisation.id,or_organisation.name,or_organisation.sector_id,or_organisation.description\r\n' +
        '1,Médecins Sans Frontières,2,"Emergency care,\r\nin two lines"\r\n2,"The ""Red"" Cross",<NULL>,\r\n\r\n\r\n',
    )
    expect(text).toContain('1,Health,True\r\n2,Shelter,False\r\n')
    expect(text.endsWith('\r\n\r\nEND')).toBe(true)
    // and it reads back to the same values
    const { connection } = await connect(`multicsv:${out}`)
    try {
      const schema = await connection.introspect()
      const org = schema.tables.find((t) => t.name === 'or_organisation')!
      expect((await readAll(connection, org)).rows).toEqual([
        [1, 'Médecins Sans Frontières', 2, 'Emergency care,\r\nin two lines'],
        [2, 'The "Red" Cross', null, ''],
      ])
    } finally {
      await connection.close()
    }
  })
})

describe('dbferry split', () => {
  it('writes N files with parents in earlier files, even when the parent appears later in the export', async () => {
    const dir = tmp()
    const file = join(dir, 'export.csv')
    writeFileSync(file, EXPORT)
    const res = await splitMultiCsv(file, { stages: 3, out: join(dir, 'parts'), guess: true })
    expect(res.files.map((f) => f.tables.map((t) => t.name))).toEqual([['or_sector'], ['or_organisation'], ['or_office']])
    expect(res.empty).toEqual(['msg_log'])
    const second = readFileSync(join(dir, 'parts', 'export.2.csv'), 'utf8')
    // values are copied as text, unchanged
    expect(second).toBe(
      'TABLE or_organisation\r\nor_organisation.id,or_organisation.name,or_organisation.sector_id,or_organisation.description\r\n' +
        '1,Médecins Sans Frontières,2,"Emergency care,\r\nin two lines"\r\n2,"The ""Red"" Cross",<NULL>,\r\n\r\n\r\nEND',
    )
  })

  it('runs as a command with declared keys and fewer stages than levels', async () => {
    const dir = tmp()
    const file = join(dir, 'export.csv')
    writeFileSync(file, EXPORT)
    let stdout = ''
    const io = {
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      env: {},
      cwd: dir,
    }
    const code = await splitCommand.run(
      ['export.csv', '--stages', '2', '--out', 'out', '--fk', 'or_organisation.sector_id=or_sector.id', '--fk', 'or_office.organisation_id=or_organisation.id'],
      io,
    )
    expect(code).toBe(0)
    expect(stdout).toMatch(/1\. .*export\.1\.csv: or_sector, or_organisation/)
    expect(stdout).toMatch(/2\. .*export\.2\.csv: or_office/)
    const first = readFileSync(join(dir, 'out', 'export.1.csv'), 'utf8')
    expect(first.indexOf('TABLE or_sector')).toBeLessThan(first.indexOf('TABLE or_organisation'))
  })
})
