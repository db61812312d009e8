import { defineConfig } from 'tsup'
import { ENGINE_NAMES } from './src/engines.js'

// one entry per subpath export (`dbferry/<engine>` for every engine in the registry); drivers stay external
// (they are optional peer dependencies)
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    ...Object.fromEntries(ENGINE_NAMES.map((d) => [d, `dialects/${d}/index.ts`])),
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
  external: ['better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', 'mssql', 'tedious', '@duckdb/node-api', 'kysely', 'pg-boss'],
})
