import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orderObjects, runObjects } from '../../src/finish/objects.js'
import type { Connection } from '../../src/dialect.js'
import type { ObjectSchema } from '../../src/schema/types.js'
import { runCli } from '../cli/run-cli.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

const up = await serverUp('postgres')

const o = (name: string, type: ObjectSchema['type'], dependsOn: string[] = []): ObjectSchema => ({ name, type, dependsOn })

describe('orderObjects', () => {
  it('puts views before the functions that read them, whatever the given order', () => {
    const order = orderObjects([
      o('udfClaims', 'function', ['uvwClaims']),
      o('uspReport', 'procedure', ['udfClaims']),
      o('uvwClaims', 'view', ['tblClaim', 'uvwInsuree']),
      o('uvwInsuree', 'view', ['tblInsuree']),
    ])
    expect(order.map((x) => x.name)).toEqual(['uvwInsuree', 'uvwClaims', 'udfClaims', 'uspReport'])
  })

  it('matches names with and without schema or brackets, and breaks cycles by kind then given order', () => {
    expect(orderObjects([o('dbo.b', 'view', ['[dbo].[a]']), o('a', 'view')]).map((x) => x.name)).toEqual(['a', 'dbo.b'])
    expect(orderObjects([o('f', 'function', ['v']), o('v', 'view', ['f'])]).map((x) => x.name)).toEqual(['v', 'f'])
  })

  it('takes dependencies from the source schema for objects listed without them', () => {
    const schema = { dialect: 'mssql', tables: [], objects: [o('f', 'function', ['v']), o('v', 'view')] }
    expect(orderObjects([o('f', 'function'), o('v', 'function')], schema).map((x) => x.name)).toEqual(['v', 'f'])
  })
})

describe('runObjects', () => {
  it('runs in dependency order inferred from the SQL text, reports failures and goes on', async () => {
    const ran: string[] = []
    const target = {
      description: 'fake target',
      async execute(sql: string) {
        ran.push(sql)
        if (sql.includes('boom')) throw new Error('relation "boom" does not exist')
      },
    } as unknown as Connection
    const out = await runObjects(target, {
      fn_total: 'CREATE FUNCTION fn_total() RETURNS int AS $$ SELECT count(*) FROM vw_a $$ LANGUAGE sql',
      vw_a: 'CREATE VIEW vw_a AS SELECT * FROM t',
      vw_bad: 'CREATE VIEW vw_bad AS SELECT * FROM boom',
    })
    expect(out).toEqual([
      { name: 'vw_a', ok: true },
      { name: 'vw_bad', ok: false, error: 'relation "boom" does not exist' },
      { name: 'fn_total', ok: true },
    ])
    expect(ran[0]).toMatch(/^CREATE VIEW vw_a/)
  })

  it('lists the source\'s objects that got no SQL, in dependency order, as not created', async () => {
    const target = { description: 'fake', dialect: { name: 'postgres' }, async execute() {} } as unknown as Connection
    const schema = { dialect: 'mssql', tables: [], objects: [o('udfCount', 'function', ['uvwA']), o('uvwA', 'view', ['t']), o('uvwB', 'view', ['uvwA'], )] }
    const notTranslated = 'not created: its mssql SQL is not translated to postgres; supply the target\'s SQL for it (the objects option)'
    expect(await runObjects(target, { 'dbo.uvwB': 'CREATE VIEW "uvwB" AS SELECT 1' }, schema)).toEqual([
      { name: 'uvwA', ok: false, error: notTranslated },
      { name: 'dbo.uvwB', ok: true },
      { name: 'udfCount', ok: false, error: notTranslated },
    ])
  })

  it('copies a T-SQL script from the command line', async () => {
    if (!up) return
    const db = await createPostgresDatabase('dbf_tsql_cli')
    try {
      const r = await runCli(['copy', 'tsql:./fixtures/tsql/insurance.sql', db.url, '--no-journal', '--json', '--quiet'])
      expect(r.code).toBe(3) // done, with the one rejected row
      const report = JSON.parse(r.stdout)
      expect(report.tables.map((t: { name: string; written: number }) => [t.name, t.written])).toEqual([['tblLocations', 4], ['tblFamilies', 2], ['tblPolicy', 3]])
      expect(report.objects.map((x: { name: string }) => x.name)).toEqual(['uvwPolicies', 'udfPolicyCount'])
    } finally {
      await db.drop()
    }
  })
})

describe.skipIf(!up)('dbferry compat install mssql', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createPostgresDatabase('dbf_compat_cli')
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('installs the pack into the chosen schema and the functions answer like SQL Server', async () => {
    const r = await runCli(['compat', 'install', 'mssql', db.url, '--schema', 'tsql'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/schema "tsql": year, month, day, quarter, eomonth/)
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    try {
      const { rows } = await c.query("SELECT tsql.datediff('year', '2019-12-31'::date, '2020-01-01'::date) AS y, tsql.eomonth('2020-02-10'::date)::text AS e")
      expect(rows[0]).toEqual({ y: 1, e: '2020-02-29' })
    } finally {
      await c.end()
    }
  })

  it('refuses bad usage with exit code 2', async () => {
    expect((await runCli(['compat', 'install', 'oracle', db.url])).code).toBe(2)
    expect((await runCli(['compat', 'remove', 'mssql', db.url])).code).toBe(2)
    expect((await runCli(['compat', 'install', 'mssql', 'sqlite:./x.db'])).code).toBe(2)
  })
})
