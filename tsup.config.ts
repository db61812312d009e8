import { defineConfig } from 'tsup'
import { ENGINE_NAMES } from './src/engines.js'

// one entry per subpath export (`dbferry/<engine>` for every engine in the registry); drivers stay external
// (they are optional peer dependencies)
const entry = {
  index: 'src/index.ts',
  ...Object.fromEntries(ENGINE_NAMES.map((d) => [d, `dialects/${d}/index.ts`])),
  testing: 'src/testing/index.ts',
  'cli/main': 'src/cli/main.ts',
}

export default defineConfig({
  // and the chunk thread's entry (`--jobs` with threads): a file a Worker starts, found beside the built code
  // as dist/pipeline/chunk-thread.{js,cjs} (src/pipeline/thread-lanes.ts); no types, it exports nothing
  entry: { ...entry, 'pipeline/chunk-thread': 'src/pipeline/chunk-thread.ts' },
  format: ['esm', 'cjs'],
  dts: { entry },
  sourcemap: true,
  clean: true,
  splitting: true,
  target: 'node20',
  shims: true,
  external: ['better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', 'mssql', 'tedious', '@duckdb/node-api', 'kysely', 'pg-boss'],
})
