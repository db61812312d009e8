import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection, ReadBatch } from '../../src/dialect.js'
import { ferry } from '../../src/ferry.js'
import { loadEngine } from '../../src/registry.js'
import { StatementSplitter, classifyStatement, parseCreateTable, rewriteDump } from '../../src/formats/mysqldump/index.js'
import { parseCreateView } from '../../src/formats/mysqldump/mysqldump-connection.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { rewriteCharset, rewriteEngine } from '../../src/transforms/rewrite-engine.js'
import { rewriteDumpCommand } from '../../src/cli/commands/rewrite-dump.js'

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'dbferry-dump-'))
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

/** A dump as mysqldump 10.19 writes it, with the constructs that break naive readers. */
export const DUMP = Buffer.concat([
  Buffer.from(
    `-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: sahana
-- ------------------------------------------------------

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;

--
-- Table structure for table \`or_sector\`
--

DROP TABLE IF EXISTS \`or_sector\`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE \`or_sector\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`name\` varchar(128) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT '',
  \`active\` tinyint(1) DEFAULT 1,
  \`flags\` bit(1) DEFAULT NULL,
  PRIMARY KEY (\`id\`),
  UNIQUE KEY \`name\` (\`name\`)
) ENGINE=MyISAM AUTO_INCREMENT=17 DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci ROW_FORMAT=FIXED COMMENT='sectors; with a ; in it';
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES \`or_sector\` WRITE;
/*!40000 ALTER TABLE \`or_sector\` DISABLE KEYS */;
INSERT INTO \`or_sector\` VALUES (1,'Health',1,b'1'),(2,'Shelter; \\'Emergency\\'',0,b'0'),(13,'Back\\\\slash \\\\N \\% \\_',NULL,NULL);
INSERT INTO \`or_sector\` VALUES (14,'Line\\nbreak\\r\\ttab \\Z end',1,'\\0');
/*!40000 ALTER TABLE \`or_sector\` ENABLE KEYS */;
UNLOCK TABLES;

CREATE TABLE \`or_organisation\` (
  \`id\` int(10) unsigned NOT NULL AUTO_INCREMENT,
  \`name\` varchar(128) NOT NULL,
  \`sector_id\` int(11) DEFAULT NULL,
  \`budget\` decimal(12,2) NOT NULL DEFAULT 0.00,
  \`logo\` blob DEFAULT NULL,
  \`kind\` enum('ngo','gov''t') DEFAULT 'ngo',
  \`founded\` date DEFAULT NULL,
  \`updated\` datetime(3) DEFAULT NULL,
  \`stamp\` timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (\`id\`),
  KEY \`sector_idx\` (\`sector_id\`),
  KEY \`name_prefix\` (\`name\`(10)),
  FULLTEXT KEY \`ft\` (\`name\`),
  CONSTRAINT \`org_sector_fk\` FOREIGN KEY (\`sector_id\`) REFERENCES \`or_sector\` (\`id\`) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

INSERT INTO \`or_organisation\` VALUES (1,'Médecins Sans Frontières',1,1234567890.12,_binary '`,
    'utf8',
  ),
  Buffer.from([0x00, 0x27, 0x27, 0x5c, 0x5c, 0xff, 0x0a]), // raw bytes: NUL, '' (a quote), \\ (a backslash), 0xff, newline
  Buffer.from(
    `','gov''t','2010-01-14','2010-01-14 10:11:12.345','2020-05-06 07:08:09'),(2,'Zero',NULL,-5.50,0x00FF10,'ngo','0000-00-00',NULL,'2020-05-06 07:08:09'),(3,'Hex',13,0.00,X'CAFE',NULL,NULL,'2010-01-14 10:11:12.000','2020-05-06 07:08:09');

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=\`root\`@\`localhost\`*/ /*!50003 TRIGGER org_bi BEFORE INSERT ON or_organisation FOR EACH ROW BEGIN
  SET NEW.name = TRIM(NEW.name); SET NEW.budget = NEW.budget;
END */;;
DELIMITER ;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
-- Dump completed on 2026-11-22  2:00:00
`,
    'utf8',
  ),
])

describe('StatementSplitter', () => {
  it('splits at delimiters outside strings, comments and DELIMITER blocks, whatever the chunking', () => {
    const whole = new StatementSplitter()
    const a = [...whole.push(DUMP), ...whole.end()].map((s) => s.text.toString('latin1').trim())
    const bytewise = new StatementSplitter()
    const b: string[] = []
    for (let i = 0; i < DUMP.length; i += 7) b.push(...bytewise.push(DUMP.subarray(i, i + 7)).map((s) => s.text.toString('latin1').trim()))
    b.push(...bytewise.end().map((s) => s.text.toString('latin1').trim()))
    expect(b).toEqual(a)
    expect(a.some((s) => s.startsWith('INSERT INTO `or_organisation`'))).toBe(true)
    const trigger = a.find((s) => s.includes('TRIGGER org_bi'))!
    expect(trigger).toContain('SET NEW.name = TRIM(NEW.name); SET NEW.budget')
    expect(a.filter((s) => s.startsWith('CREATE TABLE')).length).toBe(2)
  })
})

describe('parseCreateTable', () => {
  it('maps types, keys, foreign keys, engine and charset', async () => {
    const sql = DUMP.toString('latin1')
    const start = sql.indexOf('CREATE TABLE `or_organisation`')
    const t = parseCreateTable(sql.slice(start, sql.indexOf(';\n', start)), (await loadEngine('mysql')).types)
    expect(t.engine).toBe('InnoDB')
    expect(t.charset).toBe('utf8mb4')
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', { kind: 'int64' }],
      ['name', { kind: 'text', length: 128 }],
      ['sector_id', { kind: 'int32' }],
      ['budget', { kind: 'decimal', precision: 12, scale: 2 }],
      ['logo', { kind: 'bytes' }],
      ['kind', { kind: 'text', values: ['ngo', "gov't"] }],
      ['founded', { kind: 'date' }],
      ['updated', { kind: 'timestamp', precision: 3 }],
      ['stamp', { kind: 'timestamptz', precision: 0 }],
    ])
    expect(t.columns[0]).toMatchObject({ autoIncrement: true, nullable: false, nativeType: 'int(10) unsigned' })
    expect(t.columns[3]!.default).toEqual({ kind: 'value', value: '0.00' })
    expect(t.columns[8]!.default).toEqual({ kind: 'now' })
    expect(t.primaryKey).toEqual({ columns: ['id'] })
    expect(t.indexes).toEqual([
      { name: 'sector_idx', columns: ['sector_id'], unique: false },
      { name: 'name_prefix', columns: ['name'], unique: false, lengths: [10] },
    ])
    expect(t.foreignKeys).toEqual([
      { name: 'org_sector_fk', columns: ['sector_id'], refTable: 'or_sector', refColumns: ['id'], onDelete: 'SET NULL', origin: 'source' },
    ])
  })
})

describe('parseCreateView', () => {
  it('reads the view of a dump in its version-comment pieces', () => {
    const sql = '/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v_old` AS select `t`.`id` AS `id` from `t` */'
    expect(classifyStatement(Buffer.from(sql)).kind).toBe('create-view')
    expect(parseCreateView(Buffer.from(sql))).toEqual({ name: 'v_old', definition: 'select `t`.`id` AS `id` from `t`' })
    expect(classifyStatement(Buffer.from('/*!50001 CREATE TABLE `v_old` (\n `id` tinyint NOT NULL\n) ENGINE=MyISAM */')).kind).toBe('create-table')
  })
})

describe('mysqldump source', () => {
  it('reads rows with MySQL escapes, binary strings, hex, bits and rejects zero dates', async () => {
    const dir = tmp()
    const file = join(dir, 'dump.sql')
    writeFileSync(file, DUMP)
    const { connection } = await connect(`mysqldump:${file}`)
    const schema = await connection.introspect()
    expect(schema.tables.map((t) => [t.name, t.engine, t.charset])).toEqual([
      ['or_sector', 'MyISAM', 'latin1'],
      ['or_organisation', 'InnoDB', 'utf8mb4'],
    ])
    const sector = schema.tables[0]!
    expect(sector.columns[1]).toMatchObject({ charset: 'latin1', collation: 'latin1_swedish_ci' })
    expect((await readAll(connection, sector)).rows).toEqual([
      [1, 'Health', true, true],
      [2, "Shelter; 'Emergency'", false, false],
      [13, 'Back\\slash \\N \\% \\_', null, null],
      [14, 'Line\nbreak\r\ttab \x1a end', true, false],
    ])
    const org = schema.tables[1]!
    const { rows, rejected } = await readAll(connection, org)
    expect(rows).toEqual([
      [1, 'Médecins Sans Frontières', 1, '1234567890.12', Buffer.from([0x00, 0x27, 0x5c, 0xff, 0x0a]), "gov't", '2010-01-14', '2010-01-14 10:11:12.345', '2020-05-06 07:08:09+00:00'],
      [3, 'Hex', 13, '0.00', Buffer.from([0xca, 0xfe]), null, null, '2010-01-14 10:11:12', '2020-05-06 07:08:09+00:00'],
    ])
    expect(rejected.map((e) => [e.code, e.column, e.key])).toEqual([['zero_date', 'founded', 'line 52 row 2']])
  })

  it('loads into CSV through ferry with every row accounted for', async () => {
    const dir = tmp()
    const file = join(dir, 'dump.sql')
    writeFileSync(file, DUMP)
    const report = await ferry({ from: `mysqldump:${file}`, to: `csv:${join(dir, 'out')}` })
    expect(report.ok).toBe(true)
    expect(report.totals).toMatchObject({ read: 7, written: 6, rejected: 1 })
    const csv = readFileSync(join(dir, 'out', 'or_sector.csv'), 'utf8')
    expect(csv).toContain('13,Back\\slash \\N \\% \\_,,\n')
  })
})

/** A dump with views, triggers and routines as mysqldump --routines --triggers --events writes them. */
const PROGRAMS_DUMP = `-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;

--
-- Table structure for table \`item\`
--
CREATE TABLE \`item\` (
  \`id\` int(11) NOT NULL,
  \`qty\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO \`item\` VALUES (1,5),(2,7);
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=\`root\`@\`localhost\`*/ /*!50003 TRIGGER \`item_qty_bi\` BEFORE INSERT ON \`item\` FOR EACH ROW BEGIN
  IF NEW.qty < 0 THEN SET NEW.qty = 0; END IF;
END */;;
DELIMITER ;

--
-- Temporary table structure for view \`placeholder_name\`
--
SET @saved_cs_client     = @@character_set_client;
/*!50001 CREATE VIEW \`big_items\` AS SELECT
 1 AS \`id\` */;

--
-- Final view structure for view \`stale_comment_name\`
--
/*!50001 DROP VIEW IF EXISTS \`big_items\`*/;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=\`root\`@\`localhost\` SQL SECURITY DEFINER */
/*!50001 VIEW \`big_items\` AS select \`item\`.\`id\` AS \`id\` from \`item\` where \`item\`.\`qty\` > 5 */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=\`view maker\`@\`%\` SQL SECURITY DEFINER */
/*!50001 VIEW \`uncommented\` AS select \`big_items\`.\`id\` AS \`id\` from \`big_items\` */;

--
-- Dumping events for database 'shop'
--
DELIMITER ;;
/*!50106 CREATE*/ /*!50117 DEFINER=\`root\`@\`localhost\`*/ /*!50106 EVENT \`purge_empty\` ON SCHEDULE EVERY 1 DAY STARTS '2024-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM item WHERE qty = 0 */ ;;
DELIMITER ;

--
-- Dumping routines for database 'shop'
--
/*!50003 DROP PROCEDURE IF EXISTS \`restock\` */;
DELIMITER ;;
CREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`restock\`(IN n INT)
BEGIN
  UPDATE item SET qty = qty + n;
END ;;
DELIMITER ;
DELIMITER ;;
CREATE DEFINER=\`root\`@\`localhost\` FUNCTION \`twice\`(n INT) RETURNS int(11)
    DETERMINISTIC
RETURN n * 2 ;;
DELIMITER ;
`

describe('mysqldump views, triggers and routines', () => {
  it('names views by their CREATE VIEW statement, not by the -- View structure comment', async () => {
    const file = join(tmp(), 'programs.sql')
    writeFileSync(file, PROGRAMS_DUMP)
    const { connection } = await connect(`mysqldump:${file}`)
    const schema = await connection.introspect()
    expect(schema.tables.map((t) => t.name)).toEqual(['item'])
    expect(schema.objects?.map((o) => [o.type, o.name, o.definition, o.dependsOn])).toEqual([
      ['view', 'big_items', 'select `item`.`id` AS `id` from `item` where `item`.`qty` > 5', ['item']],
      ['view', 'uncommented', 'select `big_items`.`id` AS `id` from `big_items`', ['big_items']],
    ])
  })

  it('lists the CREATE TRIGGER, PROCEDURE, FUNCTION and EVENT it does not carry in the snapshot notes, triggers and events counted as not applied', async () => {
    const file = join(tmp(), 'programs.sql')
    writeFileSync(file, PROGRAMS_DUMP)
    const { connection } = await connect(`mysqldump:${file}`)
    const info = await connection.snapshot()
    expect(info.notes).toEqual([
      expect.stringMatching(/^line 15: CREATE TRIGGER item_qty_bi \(BEFORE INSERT ON item\) is not copied .*changes data on later writes/),
      expect.stringMatching(/^line 42: CREATE EVENT purge_empty is not copied .*changes data on its schedule/),
      expect.stringMatching(/^line 50: CREATE PROCEDURE restock is not copied/),
      expect.stringMatching(/^line 56: CREATE FUNCTION twice is not copied/),
    ])
    expect(info.notApplied).toBe(2)
    const report = await ferry({ from: `mysqldump:${file}`, to: `csv:${join(tmp(), 'out')}` })
    expect(report.totals).toMatchObject({ read: 2, written: 2, rejected: 0 })
    expect(report.snapshot?.notApplied).toBe(2)
    expect(report.clean).toBe(false)
  })
})

describe('rewriteDump', () => {
  it('rewrites engine and charset in CREATE TABLE only, and copies every other byte', async () => {
    const dir = tmp()
    const file = join(dir, 'dump.sql')
    writeFileSync(file, DUMP)
    const out = join(dir, 'out.sql')
    const res = await rewriteDump(file, out, { transforms: [rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }), rewriteCharset({ from: 'latin1', to: 'utf8mb4' })] })
    expect(res.tables.map((t) => t.table)).toEqual(['or_sector'])
    const text = readFileSync(out)
    const expected = Buffer.from(
      DUMP.toString('latin1')
        .replace('ENGINE=MyISAM', 'ENGINE=InnoDB')
        .replace(' ROW_FORMAT=FIXED', '')
        .replace('CHARACTER SET latin1 COLLATE latin1_swedish_ci', 'CHARACTER SET utf8mb4')
        .replace('DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci', 'DEFAULT CHARSET=utf8mb4'),
      'latin1',
    )
    expect(text.equals(expected)).toBe(true)
  })

  it('runs as dbferry rewrite-dump', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'in.sql'), DUMP)
    let stdout = ''
    const io = {
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      env: {},
      cwd: dir,
    }
    expect(await rewriteDumpCommand.run(['in.sql', 'out.sql', '--engine', 'MyISAM:InnoDB', '--charset', 'latin1:utf8mb4'], io)).toBe(0)
    expect(stdout).toMatch(/or_sector: engine MyISAM → InnoDB; dropped MyISAM-only ROW_FORMAT=FIXED; charset latin1 → utf8mb4/)
    expect(readFileSync(join(dir, 'out.sql'), 'latin1')).not.toMatch(/MyISAM|latin1/)
  })
})
