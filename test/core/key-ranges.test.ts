import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection, ReadOptions } from '../../src/dialect.js'
import { UsageError } from '../../src/errors.js'
import type { TableSchema, Value } from '../../src/schema/types.js'
import { harnesses, type Harness } from '../cross/harness.js'
import { MSSQL_URL, selectedDialects, type TestDatabase } from '../support/servers.js'

// key-range reads (`after`, `until`), key bounds and, on PostgreSQL, a snapshot shared between connections:
// what a table split into chunks by its key relies on, in every engine

const engines = await harnesses()
const ci = process.env.CI === 'true'
if (!MSSQL_URL && !ci) console.warn('key ranges: SQL Server is SKIPPED because DBFERRY_MSSQL_URL is not set')

const BIG_LOW = -(2n ** 62n)
const BIG_PAST_SAFE = 2n ** 53n + 1n
const BIG_HIGH = 2n ** 62n + 5n

/** The tables of the suite, in each engine's DDL: integer keys, a composite key, a text key, an empty table. */
function ddl(engine: string): string[] {
  const big = engine === 'sqlite' ? 'integer' : 'bigint'
  // SQLite reads a rowid table in rowid order: WITHOUT ROWID makes the composite key the read order
  const withoutRowid = engine === 'sqlite' ? ' WITHOUT ROWID' : ''
  return [
    'CREATE TABLE ints (id integer NOT NULL PRIMARY KEY, v varchar(20))',
    `CREATE TABLE bigs (id ${big} NOT NULL PRIMARY KEY, v varchar(20))`,
    `CREATE TABLE pairs (a integer NOT NULL, b varchar(10) NOT NULL, v varchar(20), PRIMARY KEY (a, b))${withoutRowid}`,
    'CREATE TABLE words (k varchar(20) NOT NULL PRIMARY KEY, v varchar(20))',
    'CREATE TABLE vacant (id integer NOT NULL PRIMARY KEY, v varchar(20))',
    "INSERT INTO ints (id, v) VALUES (-20, 'a'), (-5, 'b'), (0, 'c'), (3, 'd'), (7, 'e'), (10, 'f'), (15, 'g')",
    `INSERT INTO bigs (id, v) VALUES (${BIG_LOW}, 'low'), (-1, 'm1'), (1, 'p1'), (${BIG_PAST_SAFE}, 'past'), (${BIG_HIGH}, 'high')`,
    "INSERT INTO pairs (a, b, v) VALUES (1, 'a', 'x'), (1, 'b', 'x'), (2, 'a', 'x'), (2, 'c', 'x'), (3, 'a', 'x')",
    "INSERT INTO words (k, v) VALUES ('apple', 'x'), ('melon', 'x'), ('pear', 'x')",
  ]
}

/** Reads a range in batches of two rows, and checks that each batch's `lastKey` is the key of its last row. */
async function readRange(connection: Connection, table: TableSchema, range: Pick<ReadOptions, 'after' | 'until'>, keyOf: (row: Value[]) => Value[]): Promise<Value[][]> {
  const rows: Value[][] = []
  for await (const batch of connection.read(table, { batchRows: 2, batchBytes: 1 << 20, ...range })) {
    expect(batch.rejected).toEqual([])
    rows.push(...batch.rows)
    if (batch.rows.length > 0) expect(batch.lastKey).toEqual(keyOf(batch.rows[batch.rows.length - 1]!))
  }
  return rows
}

if (ci && selectedDialects().has('mssql')) {
  it('runs against SQL Server under CI=true', () => {
    expect(engines.map((e) => e.name)).toContain('mssql')
  })
}

describe.each(engines.map((h): [string, Harness] => [h.name, h]))('key ranges on %s', (name, harness) => {
  let db: TestDatabase
  let connection: Connection
  const tables = new Map<string, TableSchema>()
  const table = (n: string) => tables.get(n)!
  const ids = (t: string, range: Pick<ReadOptions, 'after' | 'until'>) => readRange(connection, table(t), range, (r) => [r[0]!]).then((rows) => rows.map((r) => r[0]))
  const pairs = (range: Pick<ReadOptions, 'after' | 'until'>) => readRange(connection, table('pairs'), range, (r) => [r[0]!, r[1]!]).then((rows) => rows.map((r) => [r[0], r[1]]))

  beforeAll(async () => {
    db = await harness.create()
    const setup = (await connect(db.url, { create: true })).connection
    try {
      for (const statement of ddl(name)) await setup.execute!(statement)
    } finally {
      await setup.close()
    }
    connection = (await connect(db.url)).connection
    await connection.snapshot()
    for (const t of (await connection.introspect()).tables) tables.set(t.name.toLowerCase(), t)
  }, 60_000)
  afterAll(async () => {
    await connection?.close()
    await db?.drop()
  })

  it('reads after a key, up to a key, and between two', async () => {
    expect(await ids('ints', {})).toEqual([-20, -5, 0, 3, 7, 10, 15])
    expect(await ids('ints', { after: [3] })).toEqual([7, 10, 15])
    expect(await ids('ints', { until: [3] })).toEqual([-20, -5, 0, 3])
    expect(await ids('ints', { after: [-5], until: [10] })).toEqual([0, 3, 7, 10])
  })

  it('takes bounds between keys, negative bounds, and bounds past either end', async () => {
    expect(await ids('ints', { after: [-6], until: [8] })).toEqual([-5, 0, 3, 7])
    expect(await ids('ints', { after: [-21], until: [-1] })).toEqual([-20, -5])
    expect(await ids('ints', { until: [-21] })).toEqual([])
    expect(await ids('ints', { after: [14], until: [1000] })).toEqual([15])
  })

  it('reads nothing from an empty range', async () => {
    expect(await ids('ints', { after: [3], until: [3] })).toEqual([])
    expect(await ids('ints', { after: [4], until: [6] })).toEqual([])
    expect(await ids('ints', { after: [10], until: [3] })).toEqual([])
    expect(await ids('vacant', { after: [0], until: [10] })).toEqual([])
  })

  it('reads bigint keys past 2^53 exactly', async () => {
    expect(await ids('bigs', {})).toEqual([BIG_LOW, -1, 1, BIG_PAST_SAFE, BIG_HIGH])
    expect(await ids('bigs', { after: [1], until: [BIG_PAST_SAFE] })).toEqual([BIG_PAST_SAFE])
    expect(await ids('bigs', { after: [BIG_PAST_SAFE] })).toEqual([BIG_HIGH])
    expect(await ids('bigs', { until: [-1] })).toEqual([BIG_LOW, -1])
    expect(await ids('bigs', { after: [BIG_LOW], until: [BIG_HIGH - 1n] })).toEqual([-1, 1, BIG_PAST_SAFE])
  })

  it('bounds a composite key with `until` alone and with both bounds', async () => {
    expect(await pairs({ until: [1, 'b'] })).toEqual([
      [1, 'a'],
      [1, 'b'],
    ])
    expect(await pairs({ until: [2, 'b'] })).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, 'a'],
    ])
    expect(await pairs({ after: [1, 'a'], until: [2, 'a'] })).toEqual([
      [1, 'b'],
      [2, 'a'],
    ])
    expect(await pairs({ after: [2, 'a'] })).toEqual([
      [2, 'c'],
      [3, 'a'],
    ])
  })

  it('gives the key bounds of a table with one integer key, as the reader gives its keys', async () => {
    expect(await connection.keyBounds!(table('ints'))).toEqual({ min: -20, max: 15 })
    expect(await connection.keyBounds!(table('bigs'))).toEqual({ min: BIG_LOW, max: BIG_HIGH })
  })

  it('gives no key bounds for a text key, a composite key or an empty table', async () => {
    expect(await connection.keyBounds!(table('words'))).toBeUndefined()
    expect(await connection.keyBounds!(table('pairs'))).toBeUndefined()
    expect(await connection.keyBounds!(table('vacant'))).toBeUndefined()
  })

  it('reads a whole table as ranges split between its key bounds', async () => {
    for (const [t, mid] of [
      ['ints', 0],
      ['bigs', 1],
    ] as const) {
      const { min, max } = (await connection.keyBounds!(table(t)))!
      const chunks = [await ids(t, { until: [min] }), await ids(t, { after: [min], until: [mid] }), await ids(t, { after: [mid], until: [max] })]
      expect(chunks.every((c) => c.length > 0)).toBe(true)
      expect(chunks.flat()).toEqual(await ids(t, {}))
    }
  })

  it('states whether connections of this engine may read and load in parallel', () => {
    const expected: Record<string, unknown> = {
      postgres: { reads: true, writes: true },
      mysql: { reads: true, writes: true },
      mssql: { reads: true, writes: true },
      sqlite: { reads: true, writes: false },
      duckdb: undefined,
    }
    expect(connection.dialect.capabilities.parallelConnections).toEqual(expected[name])
  })
})

describe.runIf(engines.some((e) => e.name === 'sqlite'))('key ranges on a SQLite rowid table whose integer key is not the rowid', () => {
  it('gives no key bounds (the table is not split: its rowid ranges would be other key ranges on a target), and reads ranges by the rowid, the order the reader reads in', async () => {
    const db = await engines.find((e) => e.name === 'sqlite')!.create()
    const { connection } = await connect(db.url, { create: true })
    try {
      // `bigint PRIMARY KEY` is no rowid alias: rowids 1, 2, 3 hold the keys 30, 10, 20
      await connection.execute!('CREATE TABLE odd (id bigint PRIMARY KEY, v text)')
      await connection.execute!("INSERT INTO odd (id, v) VALUES (30, 'a'), (10, 'b'), (20, 'c')")
      await connection.snapshot()
      const odd = (await connection.introspect()).tables.find((t) => t.name === 'odd')!
      expect(await connection.keyBounds!(odd)).toBeUndefined()
      const read = async (range: Pick<ReadOptions, 'after' | 'until'>) => {
        const out: Value[] = []
        for await (const b of connection.read(odd, { batchRows: 10, batchBytes: 1 << 20, ...range })) out.push(...b.rows.map((r) => r[0]!))
        return out
      }
      expect(await read({ until: [2] })).toEqual([30, 10])
      expect(await read({ after: [2], until: [3] })).toEqual([20])
    } finally {
      await connection.close()
      await db.drop()
    }
  })
})

describe.runIf(engines.some((e) => e.name === 'postgres'))('PostgreSQL: a snapshot shared between connections, and ranges of COPY and of a Kysely instance', () => {
  let db: TestDatabase
  let admin: pg.Client
  beforeAll(async () => {
    db = await engines.find((e) => e.name === 'postgres')!.create()
    admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    await admin.query('CREATE TABLE shared (id integer PRIMARY KEY, v text)')
    await admin.query("INSERT INTO shared VALUES (1, 'a'), (2, 'b')")
  })
  afterAll(async () => {
    await admin?.end()
    await db?.drop()
  })

  async function idsOf(connection: Connection): Promise<Value[]> {
    const t = (await connection.introspect({ tables: ['shared'] })).tables[0]!
    const out: Value[] = []
    for await (const b of connection.read(t, { batchRows: 100, batchBytes: 1 << 20 })) out.push(...b.rows.map((r) => r[0]!))
    return out
  }

  it('a connection that joins an exported snapshot does not see a row inserted after the export; a fresh one does', async () => {
    const exporter = (await connect(db.url)).connection
    const joined = (await connect(db.url)).connection
    const fresh = (await connect(db.url)).connection
    try {
      await exporter.snapshot()
      const id = (await exporter.exportSnapshot!())!.id
      expect(id).toMatch(/^[0-9A-F]+-[0-9A-F]+-\d+$/)
      await admin.query("INSERT INTO shared VALUES (3, 'c')")
      expect((await joined.snapshot({ join: id })).guarantee).toBe(`REPEATABLE READ READ ONLY, in the shared snapshot ${id}`)
      expect(await idsOf(joined)).toEqual([1, 2])
      const t = (await joined.introspect({ tables: ['shared'] })).tables[0]!
      expect(await joined.keyBounds!(t)).toEqual({ min: 1, max: 2 })
      expect(await idsOf(exporter)).toEqual([1, 2])
      expect((await fresh.snapshot()).guarantee).toBe('REPEATABLE READ READ ONLY')
      expect(await idsOf(fresh)).toEqual([1, 2, 3])
      expect(await fresh.keyBounds!(t)).toEqual({ min: 1, max: 3 })
    } finally {
      await Promise.all([exporter.close(), joined.close(), fresh.close()])
    }
  })

  it('compares a range of a real key in the type of the key (a bare 0.1 would compare as double precision)', async () => {
    await admin.query('CREATE TABLE reals (k real PRIMARY KEY)')
    await admin.query('INSERT INTO reals VALUES (0.1), (0.25), (0.5), (0.7)')
    const connection = (await connect(db.url)).connection
    try {
      const t = (await connection.introspect({ tables: ['reals'] })).tables[0]!
      const out: Value[] = []
      for await (const b of connection.read(t, { batchRows: 100, batchBytes: 1 << 20, after: [0.1], until: [0.5] })) out.push(...b.rows.map((r) => r[0]!))
      expect(out).toEqual([0.25, 0.5])
    } finally {
      await connection.close()
    }
  })

  it('refuses to export before a snapshot, and to join a snapshot that does not exist', async () => {
    const connection = (await connect(db.url)).connection
    try {
      await expect(connection.exportSnapshot!()).rejects.toThrow(UsageError)
      await expect(connection.snapshot({ join: '00000003-0000001B-1' })).rejects.toThrow(/joining the exported snapshot 00000003-0000001B-1/)
      // the failed join left no transaction open: a snapshot of its own still starts
      expect((await connection.snapshot()).guarantee).toBe('REPEATABLE READ READ ONLY')
    } finally {
      await connection.close()
    }
  })

  it('reads key ranges through a Kysely instance (plain statements) as through COPY', async () => {
    await admin.query('CREATE TABLE ranged (a integer, b text, PRIMARY KEY (a, b))')
    await admin.query("INSERT INTO ranged VALUES (1, 'a'), (1, 'b'), (2, 'a'), (2, 'c'), (3, 'a')")
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    const viaKysely = (await connect(kysely)).connection
    const viaUrl = (await connect(db.url)).connection
    try {
      const t = (await viaUrl.introspect({ tables: ['ranged'] })).tables[0]!
      const read = async (connection: Connection, range: Pick<ReadOptions, 'after' | 'until'>) => {
        const out: Value[][] = []
        for await (const b of connection.read(t, { batchRows: 2, batchBytes: 1 << 20, ...range })) out.push(...b.rows.map((r) => [r[0]!, r[1]!]))
        return out
      }
      for (const range of [{ until: [2, 'b'] }, { after: [1, 'a'], until: [2, 'a'] }, { after: [1, 'b'] }, { after: [3, 'a'], until: [9, 'z'] }]) {
        expect(await read(viaKysely, range)).toEqual(await read(viaUrl, range))
      }
      expect(await read(viaKysely, { after: [1, 'a'], until: [2, 'a'] })).toEqual([
        [1, 'b'],
        [2, 'a'],
      ])
      await admin.query(`CREATE TABLE single (id bigint PRIMARY KEY); INSERT INTO single VALUES (5), (${BIG_PAST_SAFE})`)
      expect(await viaKysely.keyBounds!((await viaKysely.introspect({ tables: ['single'] })).tables[0]!)).toEqual({ min: 5, max: BIG_PAST_SAFE })
    } finally {
      await viaKysely.close()
      await viaUrl.close()
      await kysely.destroy()
    }
  })
})

describe.runIf(engines.some((e) => e.name === 'mysql'))('MySQL/MariaDB: one snapshot for every job under FLUSH TABLES WITH READ LOCK', () => {
  it('a connection that joins before release() reads the exporter\'s moment; a write waits for the release; without lock nothing is shared', async () => {
    const db = await engines.find((e) => e.name === 'mysql')!.create()
    const admin = (await connect(db.url)).connection
    const exporter = (await connect(db.url)).connection
    const joined = (await connect(db.url)).connection
    const later = (await connect(db.url)).connection
    const idsOf = async (c: Connection) => {
      const t = (await c.introspect({ tables: ['shared'] })).tables[0]!
      const out: Value[] = []
      for await (const b of c.read(t, { batchRows: 10, batchBytes: 1 << 20 })) out.push(...b.rows.map((r) => Number(r[0])))
      return out
    }
    try {
      await admin.execute!('CREATE TABLE shared (id integer PRIMARY KEY, v varchar(5))')
      await admin.execute!("INSERT INTO shared VALUES (1, 'a'), (2, 'b')")
      await exporter.snapshot()
      expect(await exporter.exportSnapshot!()).toBeUndefined()
      // a row committed after the exporter's first snapshot: the shared one is started again under the lock, so it is in
      await admin.execute!("INSERT INTO shared VALUES (3, 'c')")
      const shared = (await exporter.exportSnapshot!({ lock: true }))!
      let inserted = false
      const insert = admin.execute!("INSERT INTO shared VALUES (4, 'd')").then(() => void (inserted = true))
      await new Promise((r) => setTimeout(r, 300))
      expect(inserted).toBe(false)
      expect((await joined.snapshot({ join: shared.id })).guarantee).toMatch(/FLUSH TABLES WITH READ LOCK/)
      await shared.release!()
      await insert
      await later.snapshot()
      expect(await idsOf(exporter)).toEqual([1, 2, 3])
      expect(await idsOf(joined)).toEqual([1, 2, 3])
      expect(await idsOf(later)).toEqual([1, 2, 3, 4])
    } finally {
      for (const c of [joined, later, exporter, admin]) await c.close().catch(() => {})
      await db.drop()
    }
  })
})
