import type sql from 'mssql'

/**
 * A plain `mssql` pool on a test database's URL (no TLS: the stand-in has none), for what a test does beside
 * dbferry: a bulk load by another client, a probe of the server's own behaviour. The caller closes it.
 */
export async function rawPool(url: string): Promise<sql.ConnectionPool> {
  const mssql = (await import('mssql')).default
  const u = new URL(url)
  return new mssql.ConnectionPool({
    server: u.hostname,
    port: Number(u.port || 1433),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1) || 'master',
    options: { encrypt: u.searchParams.get('encrypt') === 'true', trustServerCertificate: true },
  }).connect()
}

/**
 * Whether the server keeps the IDENTITY values a bulk load supplies (the Babelfish stand-in does, SQL Server
 * renumbers them): one row with key 7 bulk-loaded into a new IDENTITY(1,1) table `name`, read back, dropped.
 */
export async function serverKeepsBulkIdentity(url: string, name = 'keeps_identity_probe'): Promise<boolean> {
  const mssql = (await import('mssql')).default
  const pool = await rawPool(url)
  try {
    await pool.request().batch(`CREATE TABLE [dbo].[${name}] ([id] int IDENTITY(1,1) NOT NULL)`)
    const bulk = new mssql.Table(`[dbo].[${name}]`)
    bulk.columns.add('id', mssql.Int, { nullable: false })
    bulk.rows.add(7)
    await pool.request().bulk(bulk)
    const res = await pool.request().query(`SELECT MAX([id]) AS id FROM [dbo].[${name}]; DROP TABLE [dbo].[${name}]`)
    return Number(res.recordset[0]?.id) === 7
  } finally {
    await pool.close()
  }
}
