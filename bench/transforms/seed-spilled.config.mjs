import { defineConfig, transforms as t } from 'dbferry'
// seed-transforms with the dedupe key store spilling to its temporary SQLite file after 250 000 keys
export default defineConfig({
  transforms: [
    t.dedupe({ table: 'people', key: 'email', normalize: 'case-insensitive', keep: 'first', maxInMemory: 250_000 }),
    t.collapseMultiline({ tables: ['people'], replacement: ' ' }),
    t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({}) }),
    t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
  ],
})
