import { MSSQL_URL, mssqlUp, selectedDialects, serverUp } from './support/servers.js'

/**
 * Checks the servers once per run. A missing PostgreSQL or MariaDB is a skipped suite with a printed
 * notice locally, and a failed run under CI=true. SQL Server runs only with DBFERRY_MSSQL_URL (which .ci/run
 * sets from the stand-in); set but unreachable, it fails the run under CI=true.
 */
export default async function setup(): Promise<void> {
  const selected = selectedDialects()
  const ci = process.env.CI === 'true'
  const missing: string[] = []
  for (const kind of ['postgres', 'mysql'] as const) {
    if (!selected.has(kind)) continue
    const up = await serverUp(kind)
    process.env[`DBFERRY_HAS_${kind.toUpperCase()}`] = up ? '1' : ''
    if (!up) missing.push(kind)
  }
  if (missing.length > 0) {
    const msg = `dbferry tests: ${missing.join(' and ')} unreachable`
    if (ci) throw new Error(`${msg}; under CI=true this fails the run`)
    console.warn(`\n!! ${msg}: their suites are SKIPPED (start the servers, see README)\n`)
  }
  if (selected.has('mssql') && !MSSQL_URL) {
    console.warn('\n!! dbferry tests: DBFERRY_MSSQL_URL is not set: the SQL Server live suites are SKIPPED (offline SQL Server tests still run)\n')
  } else if (selected.has('mssql') && !(await mssqlUp())) {
    const msg = 'dbferry tests: DBFERRY_MSSQL_URL is set but SQL Server does not answer'
    if (ci) throw new Error(`${msg}; under CI=true this fails the run`)
    console.warn(`\n!! ${msg}: its live suites will fail\n`)
  }
}
