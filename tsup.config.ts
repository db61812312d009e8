import { defineConfig } from 'tsup'

// one entry per subpath export; drivers stay external (they are optional peer dependencies)
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    sqlite: 'dialects/sqlite/index.ts',
    postgres: 'dialects/postgres/index.ts',
    mysql: 'dialects/mysql/index.ts',
    mssql: 'dialects/mssql/index.ts',
    testing: 'src/testing/index.ts',
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: 'node20',
  shims: true,
  external: ['better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', 'mssql', 'tedious'],
})
