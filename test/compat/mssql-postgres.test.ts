import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installCompat } from '../../src/compat/install.js'
import { mssqlPostgresCompatSql } from '../../src/compat/mssql-postgres.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * The SQL Server compatibility pack, checked on the real PostgreSQL against expected results taken from SQL
 * Server's documentation (DATEDIFF, DATEADD, EOMONTH, DATENAME, DATEPART, LEN, CHARINDEX, ISNULL pages) and
 * from SQL Server's boundary rules (datediff counts boundaries crossed; week boundaries are Sundays).
 * PostgreSQL keeps 6 fractional digits, so the documentation's 7-digit examples use 6 here.
 */
const up = await serverUp('postgres')

// [SQL expression, expected value as text] — each line is one documented case
const CASES: [string, string | null][] = [
  // DATEDIFF docs: every part counts one boundary between these two instants
  ["datediff('year', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('quarter', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('month', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('dayofyear', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('day', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('week', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('hour', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('minute', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('second', '2005-12-31 23:59:59.999999', '2006-01-01 00:00:00.000000')", '1'],
  ["datediff('millisecond', '2005-12-31 23:59:59.999', '2006-01-01 00:00:00.000')", '1'],
  // DATEDIFF docs: one day apart at the same time of day
  ["datediff('day', '2007-05-07 09:53:01.037663', '2007-05-08 09:53:01.037663')", '1'],
  // year boundaries, not elapsed years
  ["datediff('year', '2019-12-31', '2020-01-01')", '1'],
  ["datediff('yy', '2020-01-01', '2020-12-31')", '0'],
  ["datediff('year', '2020-01-01', '2019-12-31')", '-1'],
  // month ends and leap years
  ["datediff('month', '2020-01-31', '2020-02-01')", '1'],
  ["datediff('mm', '2020-01-31', '2020-03-01')", '2'],
  ["datediff('day', '2020-03-01', '2020-02-28')", '-2'],
  ["datediff('day', '2019-02-28', '2019-03-01')", '1'],
  ["datediff('dd', '2020-02-28'::date, '2020-03-01'::date)", '2'],
  // quarter boundaries
  ["datediff('quarter', '2020-03-31', '2020-04-01')", '1'],
  ["datediff('qq', '2020-01-01', '2020-03-31')", '0'],
  ["datediff('quarter', '2020-04-01', '2019-03-31')", '-5'],
  // week boundaries are Sundays: 2023-01-07 is a Saturday, 2023-01-08 a Sunday
  ["datediff('week', '2023-01-07', '2023-01-08')", '1'],
  ["datediff('wk', '2023-01-08', '2023-01-14')", '0'],
  ["datediff('week', '2023-01-01', '2023-01-15')", '2'],
  ["datediff('week', '2023-01-08', '2023-01-07')", '-1'],
  // time parts count truncated boundaries
  ["datediff('hour', '2020-01-01 10:59:59', '2020-01-01 11:00:00')", '1'],
  ["datediff('hh', '2020-01-01 10:00:00', '2020-01-01 10:59:59')", '0'],
  ["datediff('minute', '2020-01-01 10:00:59', '2020-01-01 10:01:00')", '1'],
  ["datediff('second', '2020-01-01 10:00:00.999', '2020-01-01 10:00:01.000')", '1'],
  ["datediff('day', NULL::date, '2020-01-01'::date)", null],
  // DATEADD docs: the last day of the return month when the day does not exist there
  ["dateadd('month', 1, '2006-08-30'::date)", '2006-09-30'],
  ["dateadd('month', 1, '2006-08-31'::date)", '2006-09-30'],
  ["dateadd('year', 1, '2020-02-29'::date)", '2021-02-28'],
  ["dateadd('year', 4, '2020-02-29'::date)", '2024-02-29'],
  ["dateadd('quarter', 1, '2020-11-30'::date)", '2021-02-28'],
  ["dateadd('month', -1, '2020-03-31'::date)", '2020-02-29'],
  ["dateadd('day', -1, '2020-03-01'::date)", '2020-02-29'],
  ["dateadd('week', 1, '2020-12-28'::date)", '2021-01-04'],
  // DATEADD docs: a fractional number is truncated, not rounded
  ["dateadd('day', 1.9, '2020-01-01'::date)", '2020-01-02'],
  ["dateadd('day', -1.9, '2020-01-01'::date)", '2019-12-31'],
  ["dateadd('hour', 25, '2020-12-31 00:00:00'::timestamp)", '2021-01-01 01:00:00'],
  ["dateadd('minute', -90, '2021-01-01 00:30:00'::timestamp)", '2020-12-31 23:00:00'],
  ["dateadd('second', 61, '2020-02-28 23:59:00'::timestamp)", '2020-02-29 00:00:01'],
  ["dateadd('mm', 1, '2019-01-31 12:00:00'::timestamp)", '2019-02-28 12:00:00'],
  // EOMONTH docs and leap years
  ["eomonth('2011-12-01'::date)", '2011-12-31'],
  ["eomonth('2011-12-01'::date, 1)", '2012-01-31'],
  ["eomonth('2011-12-01'::date, -1)", '2011-11-30'],
  ["eomonth('2020-02-10'::date)", '2020-02-29'],
  ["eomonth('2019-02-10'::date)", '2019-02-28'],
  ["eomonth('2000-02-01'::date)", '2000-02-29'],
  ["eomonth('1900-02-01'::date)", '1900-02-28'],
  ["eomonth('2020-01-31'::date, 1)", '2020-02-29'],
  ["eomonth('2020-05-15 13:14:15'::timestamp)", '2020-05-31'],
  // DATENAME / DATEPART docs, for 2007-10-30 12:15:32.123456 (a Tuesday)
  ["datename('year', '2007-10-30 12:15:32.123456'::timestamp)", '2007'],
  ["datename('quarter', '2007-10-30 12:15:32.123456'::timestamp)", '4'],
  ["datename('month', '2007-10-30 12:15:32.123456'::timestamp)", 'October'],
  ["datename('dayofyear', '2007-10-30 12:15:32.123456'::timestamp)", '303'],
  ["datename('day', '2007-10-30 12:15:32.123456'::timestamp)", '30'],
  ["datename('week', '2007-10-30 12:15:32.123456'::timestamp)", '44'],
  ["datename('weekday', '2007-10-30 12:15:32.123456'::timestamp)", 'Tuesday'],
  ["datename('hour', '2007-10-30 12:15:32.123456'::timestamp)", '12'],
  ["datename('minute', '2007-10-30 12:15:32.123456'::timestamp)", '15'],
  ["datename('second', '2007-10-30 12:15:32.123456'::timestamp)", '32'],
  ["datename('millisecond', '2007-10-30 12:15:32.123456'::timestamp)", '123'],
  ["datepart('weekday', '2007-10-30'::date)", '3'],
  ["datepart('dw', '2023-01-08'::date)", '1'],
  ["datepart('week', '2023-01-01'::date)", '1'],
  ["datepart('week', '2022-01-01'::date)", '1'],
  ["datepart('week', '2022-01-02'::date)", '2'],
  ["datename('month', '2020-02-29'::date)", 'February'],
  // YEAR / MONTH / DAY docs; QUARTER boundaries
  ["year('2010-04-30 01:01:01.123456'::timestamp)", '2010'],
  ["month('2010-04-30 01:01:01.123456'::timestamp)", '4'],
  ["day('2010-04-30 01:01:01.123456'::timestamp)", '30'],
  ["year('2020-02-29'::date)", '2020'],
  ["quarter('2020-03-31'::date)", '1'],
  ["quarter('2020-04-01'::date)", '2'],
  ["quarter('2020-12-31 23:59:59'::timestamp)", '4'],
  // LEN docs: trailing spaces excluded, leading kept
  ["len('abc  ')", '3'],
  ["len('  abc')", '5'],
  ["len('')", '0'],
  ["len('   ')", '0'],
  ["len(NULL)", null],
  // CHARINDEX docs
  ["charindex('bicycle', 'Reflectors are vital safety components of your bicycle.')", '48'],
  ["charindex('bicycle', 'Reflectors are vital safety components of your bicycle.', 5)", '48'],
  ["charindex('bike', 'Reflectors are vital safety components of your bicycle.')", '0'],
  ["charindex('is', 'This is a string')", '3'],
  ["charindex('is', 'This is a string', 4)", '6'],
  ["charindex('TEST', 'This is a Test')", '11'],
  ["charindex('is', 'This is a string', 0)", '3'],
  ["charindex('', 'abc')", '0'],
  ["charindex('a', NULL)", null],
  // ISNULL docs
  ['isnull(NULL::integer, 50)', '50'],
  ['isnull(10, 50)', '10'],
  ["isnull(NULL::text, 'x')", 'x'],
]

describe.skipIf(!up)('SQL Server compatibility pack on PostgreSQL', () => {
  let db: TestDatabase
  let client: pg.Client
  beforeAll(async () => {
    db = await createPostgresDatabase('dbf_compat')
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    // the session's zone must not matter for timestamp arguments
    await client.query("SET TimeZone = 'Pacific/Chatham'")
    for (const sql of mssqlPostgresCompatSql('mssql')) await client.query(sql)
  })
  afterAll(async () => {
    await client?.end()
    await db?.drop()
  })

  it.each(CASES)('mssql.%s = %s', async (expr, expected) => {
    const sql = `SELECT (mssql.${expr.replace(/^(\w+)\(/, '$1(')})::text AS v`
    const { rows } = await client.query(sql)
    expect(rows[0].v).toBe(expected)
  })

  it('getdate() is the current local time as a timestamp with milliseconds', async () => {
    const { rows } = await client.query("SELECT pg_typeof(mssql.getdate())::text AS t, extract(epoch FROM (localtimestamp - mssql.getdate())) AS lag, to_char(mssql.getdate(), 'US') AS us")
    expect(rows[0].t).toBe('timestamp without time zone')
    expect(Math.abs(Number(rows[0].lag))).toBeLessThan(5)
    expect(rows[0].us.slice(3)).toBe('000')
  })

  it('dateadd refuses time parts on a date, and unknown parts are errors', async () => {
    await expect(client.query("SELECT mssql.dateadd('hour', 1, '2020-01-01'::date)")).rejects.toThrow(/not supported/)
    await expect(client.query("SELECT mssql.datediff('fortnight', '2020-01-01'::date, '2020-02-01'::date)")).rejects.toThrow(/unknown date part/)
  })

  it('installs into a schema of the user\'s choice, twice without error, and works in a view', async () => {
    for (let i = 0; i < 2; i++) for (const sql of mssqlPostgresCompatSql('T-SQL "compat"')) await client.query(sql)
    await client.query('CREATE TABLE policy (id int, enroll date, expiry timestamp)')
    await client.query("INSERT INTO policy VALUES (1, '2019-12-31', '2020-01-01 00:00:00'), (2, '2020-02-29', '2021-02-28 10:00:00')")
    await client.query(`CREATE VIEW policy_years AS SELECT id, "T-SQL ""compat""".datediff('year', enroll, expiry::date) AS years, "T-SQL ""compat""".eomonth(enroll) AS month_end FROM policy`)
    const { rows } = await client.query('SELECT id, years, month_end::text AS month_end FROM policy_years ORDER BY id')
    expect(rows).toEqual([
      { id: 1, years: 1, month_end: '2019-12-31' },
      { id: 2, years: 1, month_end: '2020-02-29' },
    ])
  })

  it('installCompat(url) runs through the PostgreSQL dialect and refuses other engines', async () => {
    const result = await installCompat(db.url, 'mssql', { schema: 'via_api' })
    await expect(installCompat('mysql://root@127.0.0.1/x', 'mssql')).rejects.toMatchObject({ code: 'usage' })
    expect(result.schema).toBe('via_api')
    const { rows } = await client.query("SELECT via_api.datediff('week', '2023-01-07'::date, '2023-01-08'::date) AS w")
    expect(rows[0].w).toBe(1)
  })
})
