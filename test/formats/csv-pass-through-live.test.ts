import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { formatReport } from '../../src/cli/print-report.js'
import { copyOptions } from '../../src/cli/commands/copy.js'
import { ferry, type FerryOptions } from '../../src/ferry.js'
import { csv } from '../../src/formats/csv/index.js'
import { textCheck as textCheckFor } from '../../src/formats/csv/csv-pass-through.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { plan } from '../../src/plan/plan.js'
import type { Report } from '../../src/report.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

const pgUp = await serverUp('postgres')

const dirs: string[] = []
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-csv-pt-live-'))
  dirs.push(dir)
  return dir
}

const dbs: TestDatabase[] = []
afterAll(async () => {
  for (const d of dbs) await d.drop().catch(() => {})
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function database(): Promise<TestDatabase> {
  const db = await createPostgresDatabase('dbferry_csvpt')
  dbs.push(db)
  return db
}

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(text)).rows as T[]
  } finally {
    await c.end()
  }
}

/** Every row of a table as JSON text, in key order: what the two paths must agree on. */
async function rowsOf(url: string, table: string): Promise<string[]> {
  return (await sql<{ r: string }>(url, `SELECT row_to_json(whole_row)::text AS r FROM "${table}" whole_row ORDER BY 1`)).map((x) => x.r)
}

/** Loads `from` twice, with and without the pass-through, into fresh databases; returns both runs. */
async function bothPaths(from: string, extra: Partial<FerryOptions> = {}) {
  const runs = []
  for (const passThrough of [true, false]) {
    const db = await database()
    const journal = new MemoryJournal()
    const report = await ferry({ from, to: db.url, journal, passThrough, ...extra })
    runs.push({ db, report, journal })
  }
  return { fast: runs[0]!, rows: runs[1]! }
}

/** What the journal says about each rejected row, without the run id. */
function entries(j: MemoryJournal) {
  return j.entries.map(({ runId: _, ...e }) => e)
}

function table(r: Report) {
  return r.tables[0]!
}

describe.skipIf(!pgUp)('csv pass-through into PostgreSQL', () => {
  it('streams a clean file as it is — BOM, multi-line values, quotes, delimiters, NULL vs empty string — with the values of the row path', async () => {
    const dir = tmp()
    const body =
      'id,name,note,amount,ratio,at,day,flag,blob\r\n' +
      '1,"Zoë, ""the"" first","line one\r\nline two\nline three",12.50,0.5,2024-01-02 10:00:00.500,2024-01-02,true,\\x00ff\r\n' +
      '2,,"",-3.25,1e3,2024-02-29 23:59:59,2024-02-29,f,\r\n' +
      '3,"",,0,,,,,\r\n' +
      '4,a;b|c\tdé,"only ""quotes"" and , commas",7.00,-0,2024-12-31 00:00:00,2024-12-31,yes,\\x\r\n'
    writeFileSync(join(dir, 'people.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]))
    const { fast, rows } = await bothPaths(`csv:${dir}`, { types: { 'people.blob': { kind: 'bytes' } } })
    expect(table(fast.report)).toMatchObject({ path: 'pass-through', read: 4, written: 4, rejected: 0, status: 'done' })
    expect(table(fast.report).pathNote).toBeUndefined()
    expect(table(rows.report)).toMatchObject({ path: 'rows', read: 4, written: 4, rejected: 0 })
    expect(fast.report.ok && fast.report.clean).toBe(true)
    const got = await rowsOf(fast.db.url, 'people')
    expect(got).toEqual(await rowsOf(rows.db.url, 'people'))
    expect(got).toHaveLength(4)
    const first = await sql(fast.db.url, `SELECT name, note, amount::text, at::text, encode(blob, 'hex') AS blob FROM people WHERE id = 1`)
    expect(first).toEqual([{ name: 'Zoë, "the" first', note: 'line one\r\nline two\nline three', amount: '12.50', at: '2024-01-02 10:00:00.5', blob: '00ff' }])
    const nulls = await sql(fast.db.url, `SELECT id, name IS NULL AS name_null, note IS NULL AS note_null FROM people WHERE id IN (2, 3) ORDER BY id`)
    expect(nulls).toEqual([
      { id: 2, name_null: true, note_null: false },
      { id: 3, name_null: false, note_null: true },
    ])
    // the CLI shows the path
    expect(formatReport(fast.report)).toMatch(/people .* done \(pass-through\)/)
  })

  it('passes a latin1 file, a UTF-16 file and a file with ; \\N and backslash escapes through with the same values', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'l1.csv'), Buffer.from('id,name\n1,Zoë Ørsted ÿ\n2,"façade, ""x"""\n3,\n', 'latin1'))
    writeFileSync(join(dir, 'u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Nguyễn 😀\n2,""\n', 'utf16le')]))
    writeFileSync(join(dir, 'semi.csv'), 'id;name;n\n1;"a \\"q\\" \\\\ b";\\N\n2;"\\N";3\n3;;4\n')
    for (const [from, expected] of [
      [`csv:${join(dir, 'l1.csv')}?encoding=latin1`, ['Zoë Ørsted ÿ', 'façade, "x"', null]],
      [`csv:${join(dir, 'u16.csv')}`, ['Nguyễn 😀', '']],
      [`csv:${join(dir, 'semi.csv')}?delimiter=;&null=\\N&escape=\\`, ['a "q" \\ b', '\\N', '']],
    ] as const) {
      const { fast, rows } = await bothPaths(from)
      expect(table(fast.report), from).toMatchObject({ path: 'pass-through', written: expected.length, rejected: 0 })
      const name = table(fast.report).name
      expect((await sql<{ name: string | null }>(fast.db.url, `SELECT name FROM "${name}" ORDER BY id`)).map((r) => r.name)).toEqual(expected)
      expect(await rowsOf(fast.db.url, name)).toEqual(await rowsOf(rows.db.url, name))
    }
  })

  it('passes a file with blank lines and line endings that change between LF and CRLF through, as the row path reads it', async () => {
    const dir = tmp()
    // as a CSV edited by hand ends up: CRLF header, LF and CRLF records, blank lines between and at the end
    writeFileSync(join(dir, 'edited.csv'), 'id,name,n\r\n1,a,10\n\n2,"two\nlines",20\r\n\r\n3,,30\n4,"x\r\ny",40\r\n\n\n')
    const { fast, rows } = await bothPaths(`csv:${dir}`)
    expect(table(fast.report)).toMatchObject({ path: 'pass-through', read: 4, written: 4, rejected: 0, status: 'done' })
    expect(table(rows.report)).toMatchObject({ path: 'rows', read: 4, written: 4 })
    expect(await rowsOf(fast.db.url, 'edited')).toEqual(await rowsOf(rows.db.url, 'edited'))
    expect((await sql<{ name: string | null }>(fast.db.url, 'SELECT name FROM edited ORDER BY id')).map((r) => r.name)).toEqual(['a', 'two\nlines', null, 'x\r\ny'])
  })

  // each file holds a problem past the sampled rows; the outcome must be the row path's, row for row
  const broken: [string, string, RegExp][] = [
    ['a value that does not convert', 'id,n,note\n1,10,a\n2,20,b\n3,x,c\n4,40,d\n', /line 4: n "x"/],
    ['a wrong field count', 'id,n,note\n1,10,a\n2,20,b\n3,30\n4,40,d,extra\n5,50,e\n', /line 4: 2 fields/],
    ['an unbalanced quote', 'id,n,note\n1,10,a\n2,20,b\n3,30,"open\n4,40,d\n', /unbalanced quote|after a closing quote|fields where/],
    ['a value the server refuses (year 0)', 'id,n,day\n1,10,2020-01-01\n2,20,2020-01-02\n3,30,0000-01-01\n4,40,2020-01-04\n', /PostgreSQL|year|out of range/i],
  ]
  for (const [what, text, note] of broken) {
    it(`falls back to the row path on ${what}, with the same counts and journal as without the pass-through`, async () => {
      const dir = tmp()
      writeFileSync(join(dir, 'items.csv'), text)
      const { fast, rows } = await bothPaths(`csv:${dir}?sampleRows=2`)
      const f = table(fast.report)
      const r = table(rows.report)
      expect(f.path).toBe('rows')
      expect(f.pathNote).toMatch(/^fell back to the row path: /)
      expect(f.pathNote).toMatch(note)
      expect(r.pathNote).toBeUndefined()
      expect(f.rejected).toBeGreaterThan(0)
      expect({ read: f.read, written: f.written, rejected: f.rejected, byKind: f.byKind, examples: f.examples }).toEqual({
        read: r.read,
        written: r.written,
        rejected: r.rejected,
        byKind: r.byKind,
        examples: r.examples,
      })
      expect(entries(fast.journal)).toEqual(entries(rows.journal))
      // the reader's rejects carry their line; the target's the row
      for (const e of entries(fast.journal)) expect(e.source === 'reader' ? e.key : e.row).toMatch(e.source === 'reader' ? /^line \d+$/ : /./)
      expect(await rowsOf(fast.db.url, 'items')).toEqual(await rowsOf(rows.db.url, 'items'))
      expect(formatReport(fast.report)).toContain('Loaded row by row instead of passing the CSV through:')
    })
  }

  it('takes column types from the existing target table (append/truncate), says so in plan, and user types still win', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'items.csv'), 'code,qty,price,seen\n17,3,1.50,2024-01-02\n42,4,2.00,2024-01-03\n')
    const db = await database()
    await sql(db.url, 'CREATE TABLE items (code text, qty integer, price numeric(8,2), seen date, id integer GENERATED BY DEFAULT AS IDENTITY)')
    const from = `csv:${dir}`

    const inferred = await plan({ from, to: db.url, scan: false })
    expect(inferred.snapshot?.notes).toEqual(['items: column types inferred from 2 sampled rows: code int32, qty int32, price decimal(18,2), seen date'])
    const kept = await plan({ from, to: db.url, mode: 'append', scan: false })
    expect(kept.snapshot?.notes).toEqual(['items: column types from the target table: code text, qty int32, price decimal(8,2), seen date'])
    const source = await csv.connect({ path: dir, types: { 'items.qty': { kind: 'int64' } } })
    const mixed = await plan({ from: source, to: db.url, mode: 'append', scan: false })
    expect(mixed.snapshot?.notes).toEqual(['items: column types from the target table: code text, price decimal(8,2), seen date; from given types: qty int64'])

    const report = await ferry({ from, to: db.url, mode: 'append', journal: false })
    expect(report.error).toBeUndefined()
    expect(table(report)).toMatchObject({ path: 'pass-through', read: 2, written: 2 })
    expect(report.snapshot?.notes?.[0]).toMatch(/from the target table/)
    expect(await sql(db.url, 'SELECT code, qty, price::text, seen::text, id FROM items ORDER BY id')).toEqual([
      { code: '17', qty: 3, price: '1.50', seen: '2024-01-02', id: 1 },
      { code: '42', qty: 4, price: '2.00', seen: '2024-01-03', id: 2 },
    ])
    const again = await ferry({ from, to: db.url, mode: 'truncate', journal: false, passThrough: false })
    expect(table(again)).toMatchObject({ path: 'rows', written: 2 })
    expect(await sql(db.url, 'SELECT code FROM items ORDER BY code')).toEqual([{ code: '17' }, { code: '42' }])
  })

  it('gives the row path’s values for every spelling its check lets through (a random file, every type)', async () => {
    // a small seeded generator, so a failure can be replayed
    let seed = 20261122
    const rnd = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
    }
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!
    const digits = (n: number) => Array.from({ length: n }, () => rnd(10)).join('')
    const pad = (v: number, n = 2) => String(v).padStart(n, '0')
    const date = () => `${1900 + rnd(200)}-${pad(1 + rnd(12))}-${pad(1 + rnd(28))}`
    const time = () => `${pad(rnd(24))}:${pad(rnd(60))}:${pad(rnd(60))}${pick(['', `.${digits(1 + rnd(6))}`, '.500', '.000'])}`
    const columns: [string, Parameters<typeof textCheckFor>[0], () => string][] = [
      ['b', { kind: 'boolean' }, () => pick(['t', 'f', 'true', 'false', 'TRUE', 'False', 'yes', 'no', 'on', 'off', 'y', 'N', '1', '0'])],
      ['i16', { kind: 'int16' }, () => String(rnd(65536) - 32768)],
      ['i32', { kind: 'int32' }, () => pick(['0', '-2147483648', '2147483647', String(rnd(1e9) - 5e8)])],
      ['i64', { kind: 'int64' }, () => pick(['9223372036854775807', '-9223372036854775808', `${rnd(9) + 1}${digits(rnd(18))}`])],
      ['dec', { kind: 'decimal', precision: 12, scale: 4 }, () => `${pick(['', '-'])}${rnd(1e8)}${pick(['', `.${digits(1 + rnd(4))}`])}`],
      ['f64', { kind: 'float64' }, () => pick(['NaN', 'Infinity', '-Infinity', 'inf', '-0', '.5', '5.', '1e-7', '-2.5E+300', '0.1', `${rnd(1e6)}.${digits(1 + rnd(15))}`, `${rnd(100)}e${rnd(40) - 20}`])],
      ['f32', { kind: 'float32' }, () => String(Math.fround((rnd(2e6) - 1e6) / 1024))],
      ['d', { kind: 'date' }, date],
      ['t', { kind: 'time' }, time],
      ['ts', { kind: 'timestamp' }, () => `${date()} ${time()}`],
      ['ts2', { kind: 'timestamp', precision: 2 }, () => `${date()} ${pad(rnd(24))}:${pad(rnd(60))}:${pad(rnd(60))}${pick(['', '.5', '.25', '.50', '.2500'])}`],
      ['tz', { kind: 'timestamptz' }, () => `${date()} ${time()}${pick(['+00:00', '+05:30', '-08:00', '+14:00'])}`],
      ['u', { kind: 'uuid' }, () => pick(['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-42661417400F'])],
      ['j', { kind: 'json' }, () => pick(['{"a":[1,2,{"b":null}]}', '"x, \\"y\\""', '[]', '1.5e3'])],
      ['by', { kind: 'bytes' }, () => `\\x${Buffer.from(digits(rnd(6))).toString('hex')}`],
      ['tx', { kind: 'text' }, () => pick(['', 'plain', 'a,b', 'say "hi"', 'two\nlines', 'crlf\r\nhere', 'é 😀', ' padded ', '\\N', 'NULL'])],
    ]
    const quote = (v: string) => (/[",\r\n]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v)
    let body = `id,${columns.map((c) => c[0]).join(',')}\n`
    for (let id = 1; id <= 400; id++) {
      const fields = columns.map(([, type, gen]) => {
        if (rnd(10) === 0) return '' // NULL
        for (;;) {
          const v = gen()
          if (textCheckFor(type)?.(v) ?? true) return rnd(4) === 0 ? `"${v.replaceAll('"', '""')}"` : quote(v)
        }
      })
      body += `${id},${fields.join(',')}\n`
    }
    const dir = tmp()
    writeFileSync(join(dir, 'probe.csv'), body)
    const types = Object.fromEntries([['probe.id', { kind: 'int32' }], ...columns.map(([name, type]) => [`probe.${name}`, type])])
    const { fast, rows } = await bothPaths(`csv:${dir}`, { types })
    expect(table(rows.report)).toMatchObject({ read: 400, written: 400, rejected: 0 })
    expect(table(fast.report)).toMatchObject({ path: 'pass-through', read: 400, written: 400, rejected: 0 })
    expect(await rowsOf(fast.db.url, 'probe')).toEqual(await rowsOf(rows.db.url, 'probe'))
  })

  it('turns off with passThrough: false and --no-pass-through', async () => {
    const io = { stdout: process.stdout, stderr: process.stderr, env: {}, cwd: process.cwd() }
    expect((await copyOptions(['csv:./a', 'postgres://x/y', '--no-pass-through'], io)).options.passThrough).toBe(false)
    expect((await copyOptions(['csv:./a', 'postgres://x/y'], io)).options.passThrough).toBeUndefined()
  })

  it('restarts a table killed in the middle of its COPY from nothing on --resume', async () => {
    const dir = tmp()
    const file = join(dir, 'events.csv')
    const out = createWriteStream(file)
    const ROWS = 1_000_000
    let buf = 'id,n,label\n'
    for (let i = 1; i <= ROWS; i++) {
      buf += `${i},${i % 1000},"row ${i}, é"\n`
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain')
        buf = ''
      }
    }
    out.end(buf)
    await once(out, 'finish')
    const db = await database()
    const journal = join(dir, 'journal.sqlite')
    const child = (resume: boolean, kill: boolean) =>
      new Promise<Report | undefined>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'jiti/register', join(__dirname, '../resume/copy-child.ts'), `csv:${file}`, db.url, journal, '10000', ...(resume ? ['--resume'] : [])], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let text = ''
        p.stdout.on('data', (d: Buffer) => {
          text += d.toString()
          // the first progress event comes a quarter of a second into the COPY
          if (kill && text.includes('batch ')) p.kill('SIGKILL')
        })
        p.on('error', reject)
        p.on('exit', () => {
          const line = text.split('\n').find((l) => l.startsWith('REPORT '))
          resolve(line ? (JSON.parse(line.slice(7)) as Report) : undefined)
        })
      })
    expect(await child(false, true)).toBeUndefined()
    // the COPY was one uncommitted transaction: nothing of it is on the target
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM events')).toEqual([{ n: 0 }])
    const report = await child(true, false)
    expect(report?.error).toBeUndefined()
    expect(table(report!)).toMatchObject({ path: 'pass-through', read: ROWS, written: ROWS, rejected: 0 })
    expect(await sql(db.url, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM events')).toEqual([{ n: ROWS, d: ROWS }])
  }, 60_000)
})
