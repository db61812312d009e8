import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture, fixtureSchema, type Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import type { Connection } from '../../src/dialect.js'
import { ferry } from '../../src/ferry.js'
import { exitCodeOf } from '../../src/report.js'
import { MSSQL_URL, MYSQL_URL, PG_URL, createMssqlDatabase, createMysqlDatabase, createPostgresDatabase, mssqlUp, serverUp, type TestDatabase } from '../support/servers.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-finish-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PARENTS = 40
const CHILDREN = 120

/** A parent with an identity key and a unique index, a child with a foreign key and a plain index. */
const fixture: Fixture = {
  name: 'finish-steps',
  tables: [
    {
      name: 'parent',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'code', type: { kind: 'text', length: 20 }, nullable: false },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'parent_code_key', columns: ['code'], unique: true }],
      rows: Array.from({ length: PARENTS }, (_, i) => [i + 1, `p${i + 1}`]),
    },
    {
      name: 'child',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'parent_id', type: { kind: 'int32' }, nullable: false },
        { name: 'label', type: { kind: 'text', length: 20 } },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'child_label_idx', columns: ['label'] }],
      foreignKeys: [{ name: 'child_parent_fk', columns: ['parent_id'], refTable: 'parent', refColumns: ['id'] }],
      rows: Array.from({ length: CHILDREN }, (_, i) => [i + 1, (i % PARENTS) + 1, `c${i + 1}`]),
    },
  ],
}

/**
 * Ends every other session on the target database, synchronously (a child process), so that the session
 * finalize is about to use is already gone when it sends its first statement: as an operator or a failover would.
 */
function dropConnectionsNow(kind: 'postgres' | 'mysql' | 'mssql', database: string): void {
  const script =
    kind === 'postgres'
      ? `const pg = require('pg'); const c = new pg.Client({ connectionString: ${JSON.stringify(PG_URL)} });
         c.connect().then(() => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [${JSON.stringify(database)}])).then(() => c.end())`
      : kind === 'mysql'
        ? `const mysql = require('mysql2/promise');
         (async () => { const c = await mysql.createConnection(${JSON.stringify(MYSQL_URL)});
           const [rows] = await c.query('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [${JSON.stringify(database)}]);
           for (const r of rows) await c.query('KILL ' + Number(r.id)).catch(() => {});
           await c.end() })()`
        : // the mssql pool replaces an idle connection found closed, so a session killed between statements is
          // never seen: a holder (a process of its own) locks child's rows first, so that finalize's
          // CREATE INDEX on child waits on it (parent's index is made), then KILLs the target's other sessions mid-statement
          `const { spawn } = require('node:child_process');
           const holder = spawn(process.execPath, ['-e', ${JSON.stringify(mssqlHolder(database))}], { cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
           holder.stdout.once('data', () => { holder.stdout.destroy(); holder.unref(); process.exit(0) });`
  execFileSync(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: 'inherit', timeout: 30_000 })
}

/** The script of the SQL Server lock holder: prints once it holds child's rows, KILLs the database's other sessions a second later, rolls back. */
function mssqlHolder(database: string): string {
  return `const sql = require('mssql'); const u = new URL(${JSON.stringify(MSSQL_URL ?? '')});
    (async () => {
      const config = { server: u.hostname, port: Number(u.port || 1433), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
        options: { encrypt: false, trustServerCertificate: true }, pool: { max: 1, min: 0 } };
      const c = await new sql.ConnectionPool({ ...config, database: ${JSON.stringify(database)} }).connect();
      const tx = new sql.Transaction(c); await tx.begin();
      await new sql.Request(tx).query('UPDATE dbo.child SET label = label');
      process.stdout.write('locked\\n');
      await new Promise((r) => setTimeout(r, 1000));
      const spid = Number((await new sql.Request(tx).query('SELECT @@SPID AS s')).recordset[0].s);
      const admin = await new sql.ConnectionPool({ ...config, database: 'master' }).connect();
      const r = await admin.request().input('db', sql.NVarChar, ${JSON.stringify(database)}).input('me', sql.Int, spid)
        .query('SELECT session_id FROM sys.dm_exec_sessions WHERE database_id = DB_ID(@db) AND session_id NOT IN (@@SPID, @me)');
      for (const { session_id } of r.recordset) await admin.request().batch('KILL ' + Number(session_id)).catch(() => {});
      await tx.rollback(); await c.close(); await admin.close();
    })().catch((e) => { console.error(e); process.exit(1) })`
}

/** What the target holds of the finishing steps, read from its catalog. */
interface Finished {
  /** Index names on the two tables (primary keys and MySQL's indexes of foreign keys excluded), one entry per index. */
  indexes: string[]
  /** Foreign keys of child, one entry per constraint. */
  foreignKeys: number
  /** The id an INSERT without one was given. */
  nextParentId: number
}

async function readPostgres(url: string): Promise<Finished> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const ix = await c.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('parent', 'child') AND indexname NOT LIKE '%_pkey' ORDER BY 1`,
    )
    const fk = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = 'public.child'::regclass`)
    const ins = await c.query<{ id: number }>(`INSERT INTO parent (code) VALUES ('new') RETURNING id`)
    return { indexes: ix.rows.map((r) => r.indexname), foreignKeys: Number(fk.rows[0]!.n), nextParentId: Number(ins.rows[0]!.id) }
  } finally {
    await c.end()
  }
}

async function readMysql(url: string): Promise<Finished> {
  const mysql = await import('mysql2/promise')
  const c = await mysql.createConnection(url)
  try {
    const [ix] = (await c.query(
      `SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY'
         AND TABLE_NAME IN ('parent', 'child')
         AND INDEX_NAME NOT IN (SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()) ORDER BY INDEX_NAME`,
    )) as unknown as [{ INDEX_NAME: string }[]]
    const [fk] = (await c.query(`SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'child'`)) as unknown as [
      { n: number }[],
    ]
    const [ins] = (await c.query(`INSERT INTO parent (code) VALUES ('new')`)) as unknown as [{ insertId: number }]
    return { indexes: ix.map((r) => r.INDEX_NAME), foreignKeys: Number(fk[0]!.n), nextParentId: ins.insertId }
  } finally {
    await c.end()
  }
}

/**
 * SQL Server's catalog: index names lower-cased (the Babelfish stand-in lists sys.* names in lower case, SQL
 * Server as created; the fixture's names are lower case either way), primary keys excluded.
 */
async function readMssql(url: string): Promise<Finished> {
  const sql = (await import('mssql')).default
  const u = new URL(url)
  const pool = await new sql.ConnectionPool({
    server: u.hostname,
    port: Number(u.port || 1433),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
    options: { encrypt: false, trustServerCertificate: true },
  }).connect()
  try {
    const ix = await pool
      .request()
      .query(
        `SELECT LOWER(i.name) AS name, LOWER(OBJECT_NAME(i.object_id)) AS tab FROM sys.indexes i
          WHERE i.object_id IN (OBJECT_ID(N'dbo.parent'), OBJECT_ID(N'dbo.child')) AND i.is_primary_key = 0 AND i.name IS NOT NULL`,
      )
    const fk = await pool.request().query(`SELECT COUNT(*) AS n FROM sys.foreign_keys WHERE parent_object_id = OBJECT_ID(N'dbo.child')`)
    const ins = await pool.request().query(`INSERT INTO dbo.parent (code) OUTPUT INSERTED.id VALUES (N'new')`)
    // the stand-in lists an index under its physical name (name, table, 32 hex digits); SQL Server under its own
    const indexes = (ix.recordset as { name: string; tab: string }[]).map((r) => r.name.replace(new RegExp(`^(.+)${r.tab}[0-9a-f]{32}$`), '$1')).sort()
    return { indexes, foreignKeys: Number(fk.recordset[0].n), nextParentId: Number(ins.recordset[0].id) }
  } finally {
    await pool.close()
  }
}

const targets: { name: 'postgres' | 'mysql' | 'mssql'; create(): Promise<TestDatabase>; read(url: string): Promise<Finished> }[] = []
if (await serverUp('postgres')) targets.push({ name: 'postgres', create: () => createPostgresDatabase('finish'), read: readPostgres })
if (await serverUp('mysql')) targets.push({ name: 'mysql', create: () => createMysqlDatabase('finish'), read: readMysql })
if (await mssqlUp()) targets.push({ name: 'mssql', create: () => createMssqlDatabase('finish'), read: readMssql })

describe.skipIf(targets.length === 0)('the connection lost while indexes, foreign keys and sequences are created', () => {
  for (const target of targets) {
    it(`sqlite → ${target.name}: the run is not ok (a ConnectionError), and --resume finishes it once`, async () => {
      const src = `sqlite:${join(dir, `src-${target.name}.db`)}`
      await buildFixture(fixture, src)
      const dst = await target.create()
      const journal = join(dir, `journal-${target.name}.sqlite`)
      try {
        let dropped = false
        const first = await ferry({
          from: src,
          to: dst.url,
          journal,
          onProgress(e) {
            if (e.type === 'phase' && e.phase === 'finalize' && !dropped) {
              dropped = true
              dropConnectionsNow(target.name, dst.name)
            }
          },
        })
        expect(dropped).toBe(true)
        expect(first.ok).toBe(false)
        expect(first.error?.code).toBe('connection')
        expect(first.error?.message).toMatch(/resume/)
        expect(exitCodeOf(first)).toBe(1)
        expect(first.tables.map((t) => [t.name, t.status, t.written])).toEqual([
          ['parent', 'done', PARENTS],
          ['child', 'done', CHILDREN],
        ])

        const second = await ferry({ from: src, to: dst.url, journal, resume: true })
        expect(second.error).toBeUndefined()
        expect(second.ok).toBe(true)
        expect(second.clean).toBe(true)
        expect(second.constraints).toEqual([])
        expect(second.tables.map((t) => [t.name, t.resumed?.skipped, t.written])).toEqual([
          ['parent', true, PARENTS],
          ['child', true, CHILDREN],
        ])

        const finished = await target.read(dst.url)
        expect(finished.indexes).toEqual(['child_label_idx', 'parent_code_key'])
        expect(finished.foreignKeys).toBe(1)
        expect(finished.nextParentId).toBeGreaterThan(PARENTS)

        // a third resume finds the run finished: there is nothing to take up
        await expect(ferry({ from: src, to: dst.url, journal, resume: true })).rejects.toThrow(/no interrupted run/)
      } finally {
        await dst.drop()
      }
    }, 120_000)

    it(`sqlite → ${target.name}: finishing run twice (a crash after it, before the run was recorded) creates nothing twice`, async () => {
      const src = `sqlite:${join(dir, `twice-${target.name}.db`)}`
      await buildFixture(fixture, src)
      const dst = await target.create()
      try {
        const first = await ferry({ from: src, to: dst.url, journal: false })
        expect(first.ok).toBe(true)
        const { connection } = await connect(dst.url)
        try {
          const again = await connection.finalize(fixtureSchema(fixture), {})
          expect(again).toEqual([])
        } finally {
          await connection.close()
        }
        const finished = await target.read(dst.url)
        expect(finished.indexes).toEqual(['child_label_idx', 'parent_code_key'])
        expect(finished.foreignKeys).toBe(1)
        expect(finished.nextParentId).toBeGreaterThan(PARENTS)
      } finally {
        await dst.drop()
      }
    }, 60_000)
  }
})

describe.skipIf(!targets.some((t) => t.name === 'postgres'))('the PostgreSQL backend terminated while sequences are set', () => {
  it('is a ConnectionError that ends the run (resumable), not a failed sequence', async () => {
    const pg = (await import('pg')).default
    const src = `sqlite:${join(dir, 'src-mid.db')}`
    await buildFixture(fixture, src)
    const dst = await createPostgresDatabase('finish')
    const journal = join(dir, 'journal-mid.sqlite')
    // the caller's own client, whose first sequence statement finds its backend terminated by the server just
    // before it runs: the last step of finalize, where every failure used to become a constraint problem
    const client = new pg.Client({ connectionString: dst.url })
    client.on('error', () => {})
    await client.connect()
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    let terminated = false
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (!terminated && typeof args[0] === 'string' && /pg_get_serial_sequence/.test(args[0])) {
        terminated = true
        return terminate((client as unknown as { processID: number }).processID).then(() => query(...args))
      }
      return query(...args)
    }
    try {
      const first = await ferry({ from: src, to: client, journal })
      expect(terminated).toBe(true)
      expect(first.ok).toBe(false)
      expect(first.error?.code).toBe('connection')
      expect(first.constraints).toEqual([])

      // before: two "sequence" problems among the constraints, and the run ok (exit 3) with its sequences at 1
      expect(first.error?.message).toMatch(/resume/)
      expect(exitCodeOf(first)).toBe(1)
    } finally {
      await client.end().catch(() => {})
      await dst.drop()
    }
  }, 60_000)
})

/** Terminates one PostgreSQL backend from a second connection. */
async function terminate(pid: number): Promise<void> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    await c.query('SELECT pg_terminate_backend($1)', [pid])
  } finally {
    await c.end()
  }
}

/** A connection whose `finalize` fails as a closed SQLite connection does, once. */
function losingFinalize(connection: Connection): Connection {
  let failed = false
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'finalize' && !failed) {
        return async () => {
          failed = true
          throw new TypeError('The database connection is not open')
        }
      }
      const value = Reflect.get(target, property, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('the SQLite target lost while finishing', () => {
  it('is not ok (a ConnectionError); --resume finishes it, with its indexes once', async () => {
    const src = `sqlite:${join(dir, 'src-sqlite.db')}`
    await buildFixture(fixture, src)
    const dst = join(dir, 'dst.db')
    const { connection } = await connect(`sqlite:${dst}`, { create: true })
    const journal = join(dir, 'journal-sqlite.sqlite')
    const to = losingFinalize(connection)
    try {
      const first = await ferry({ from: src, to, journal })
      expect(first.ok).toBe(false)
      expect(first.error?.code).toBe('connection')
      expect(first.error?.message).toMatch(/resume/)
      expect(exitCodeOf(first)).toBe(1)

      const second = await ferry({ from: src, to, journal, resume: true })
      expect(second.error).toBeUndefined()
      expect(second.ok).toBe(true)
      expect(second.constraints).toEqual([])
    } finally {
      await connection.close()
    }
    const BetterSqlite3 = (await import('better-sqlite3')).default
    const db = new BetterSqlite3(dst, { readonly: true })
    try {
      const names = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all()
      expect(names).toEqual(['child_label_idx', 'parent_code_key'])
    } finally {
      db.close()
    }
  })
})

describe('finishing run twice on a file target creates nothing twice', () => {
  const files: { name: string; url(file: string): string; indexes(file: string): Promise<string[]> }[] = [
    {
      name: 'sqlite',
      url: (file) => `sqlite:${file}`,
      async indexes(file) {
        const BetterSqlite3 = (await import('better-sqlite3')).default
        const db = new BetterSqlite3(file, { readonly: true })
        try {
          return db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[]
        } finally {
          db.close()
        }
      },
    },
    {
      name: 'duckdb',
      url: (file) => `duckdb:${file}`,
      async indexes(file) {
        const { DuckDBInstance } = await import('@duckdb/node-api')
        const instance = await DuckDBInstance.create(file)
        const c = await instance.connect()
        try {
          const r = await c.runAndReadAll('SELECT index_name FROM duckdb_indexes() ORDER BY 1')
          return r.getRows().map(([n]) => String(n))
        } finally {
          c.closeSync()
          instance.closeSync()
        }
      },
    },
  ]
  for (const f of files) {
    it(`${f.name}: a second finalize finds every index and reports what the first did`, async () => {
      const src = `sqlite:${join(dir, `twice-src-${f.name}.db`)}`
      await buildFixture(fixture, src)
      const file = join(dir, `twice-${f.name}.db`)
      const first = await ferry({ from: src, to: f.url(file), journal: false })
      expect(first.ok).toBe(true)
      const before = await f.indexes(file)
      expect(before.filter((n) => n === 'child_label_idx' || n === 'parent_code_key').length).toBeGreaterThan(0)
      const { connection } = await connect(f.url(file), { create: true })
      try {
        const again = await connection.finalize(fixtureSchema(fixture), {})
        expect(again.filter((p) => p.kind !== 'foreign_key')).toEqual([])
        expect(again.filter((p) => p.kind === 'foreign_key').map((p) => p.outcome)).toEqual(first.constraints.filter((p) => p.kind === 'foreign_key').map((p) => p.outcome))
      } finally {
        await connection.close()
      }
      expect(await f.indexes(file)).toEqual(before)
    })
  }
})
