/**
 * `dbferry/mysql`: the MySQL/MariaDB dialect (mysql2). Importing it does not load mysql2; connecting does.
 */
import { mysqlDialect } from './mysql-dialect.js'

/** The MySQL/MariaDB dialect (the same object as `mysqlDialect`). */
export const mysql = mysqlDialect
export { mysqlDialect }
export { MysqlConnection, type MysqlConnectTarget } from './mysql-connection.js'
export { mysqlTypes, type MysqlTypes, type ZeroDatePolicy } from './mysql-types.js'
export { mysqlSql, type MysqlSql, type ServerCharsets } from './mysql-sql.js'
export { mysqlErrors, type MysqlErrors, type MysqlWarning } from './mysql-errors.js'
