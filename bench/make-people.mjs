// Builds the benchmarks' `people` table in a SQLite file: node bench/make-people.mjs <file> [rows]
import { ROWS, buildPeople } from './lib.mjs'

const [file, rows] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/make-people.mjs <file> [rows]')
  process.exit(2)
}
buildPeople(file, rows ? Number(rows) : ROWS)
