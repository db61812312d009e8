// builds the 7-column `people` table of the benchmarks: node bench/make-people.mjs <file> <rows>
import Database from 'better-sqlite3'
const file = process.argv[2], ROWS = Number(process.argv[3])
const db = new Database(file)
db.pragma('journal_mode = OFF')
db.exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, age INTEGER NOT NULL, email TEXT NOT NULL, score REAL, bio TEXT, created_at TIMESTAMP NOT NULL, active BOOLEAN NOT NULL)`)
const ins = db.prepare(`INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?)`)
db.transaction(() => {
  for (let i = 1; i <= ROWS; i++) ins.run(i, 18 + (i % 80), `user${i}@example.org`, i % 13 === 0 ? null : (i * 7919) / 101, i % 5 === 0 ? null : `n°${i}\nline two, "quoted"\r\nthird — été`, `2024-01-02 12:34:${String(i % 60).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}`, i % 3 === 0 ? 1 : 0)
})()
db.close()
