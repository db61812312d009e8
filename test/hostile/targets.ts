import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMysqlDatabase, createPostgresDatabase, selectedDialects, serverUp } from '../support/servers.js'

/** A database to copy into, and how to remove it. */
export interface TargetDb {
  url: string
  drop(): Promise<void>
}

/** A target engine the hostile and leak tests run against. */
export interface TargetKind {
  name: 'sqlite' | 'postgres' | 'mysql'
  /** Whether the dialect is selected (DBFERRY_DIALECTS) and its server answers. */
  available: boolean
  create(): Promise<TargetDb>
}

/** SQLite always; PostgreSQL and MariaDB when their server is up. */
export async function targetKinds(): Promise<TargetKind[]> {
  const selected = selectedDialects()
  const sqliteDir = mkdtempSync(join(tmpdir(), 'dbferry-target-'))
  let n = 0
  return [
    {
      name: 'sqlite',
      available: selected.has('sqlite'),
      async create() {
        const file = join(sqliteDir, `t${++n}.db`)
        return { url: `sqlite:${file}`, drop: async () => rmSync(file, { force: true }) }
      },
    },
    {
      name: 'postgres',
      available: selected.has('postgres') && (await serverUp('postgres')),
      create: () => createPostgresDatabase('hostile'),
    },
    {
      name: 'mysql',
      available: selected.has('mysql') && (await serverUp('mysql')),
      create: () => createMysqlDatabase('hostile'),
    },
  ]
}
