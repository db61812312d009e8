/**
 * `dbferry/mysql`: the MySQL/MariaDB dialect (mysql2). Importing it loads mysql2; the core never does.
 */
export { mysql, MysqlConnection, SESSION_SQL_MODE, type MysqlConnectTarget } from './mysql-dialect.js'
export { mysqlCollationFolder, DEFAULT_COLLATION } from './mysql-collation.js'
export { LOGICAL_TO_MYSQL, MYSQL_TO_LOGICAL, logicalFromMysql, mysqlTypeFor } from './mysql-types.js'
export type { ZeroDatePolicy } from './mysql-reader.js'
