import mysql from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { createMysqlDatabase, serverUp } from '../support/servers.js'

// a read holds the batch it hands over and little more: batches the consumer let go of are not kept alive by the
// read (they were, through a promise that lived as long as the read: 35 MB per 100 000 rows of a 7-column table)
const ROWS = 400_000

describe.runIf(await serverUp('mysql'))('MySQL/MariaDB read memory', () => {
  it(`reading ${ROWS} rows in batches of 2 000 keeps the heap flat`, async () => {
    const db = await createMysqlDatabase('dbferry_readmem')
    const admin = await mysql.createConnection(db.url)
    try {
      await admin.query('CREATE TABLE wide (id int PRIMARY KEY, a varchar(60), b varchar(60), c varchar(60), n bigint)')
      // MariaDB's sequence engine makes the rows on the server; MySQL gets them from a recursive CTE
      await admin.query(`SET SESSION cte_max_recursion_depth = ${ROWS + 1}`).catch(() => {})
      await admin
        .query(`INSERT INTO wide SELECT seq, CONCAT('first column of row ', seq), CONCAT('second column of row ', seq), CONCAT('third ', seq), seq * 7 FROM seq_1_to_${ROWS}`)
        .catch(() =>
          admin.query(
            `INSERT INTO wide WITH RECURSIVE s (seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM s WHERE seq < ${ROWS}) SELECT seq, CONCAT('first column of row ', seq), CONCAT('second column of row ', seq), CONCAT('third ', seq), seq * 7 FROM s`,
          ),
        )
      const { connection } = await connect(db.url)
      try {
        await connection.snapshot()
        const table = (await connection.introspect()).tables.find((t) => t.name === 'wide')!
        let rows = 0
        let start = 0
        let most = 0
        for await (const batch of connection.read(table, { batchRows: 2_000, batchBytes: 8 << 20 })) {
          rows += batch.rows.length
          const heap = process.memoryUsage().heapUsed
          if (rows === 20_000) start = heap
          if (rows > 20_000) most = Math.max(most, heap)
          // a slow consumer: the server's rows wait in the paused socket, not in memory
          if (rows % 20_000 === 0) await new Promise((r) => setTimeout(r, 5))
        }
        expect(rows).toBe(ROWS)
        // with every batch kept the heap grew by about 90 MB over these rows (0.5-11 MB without)
        expect((most - start) / 1048576).toBeLessThan(40)
      } finally {
        await connection.close()
      }
    } finally {
      await admin.end()
      await db.drop()
    }
  }, 120_000)
})
