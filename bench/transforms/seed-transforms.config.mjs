import { defineConfig, transforms as t } from 'dbferry'
export default defineConfig({
  transforms: [
    t.dedupe({ table: 'people', key: 'email', normalize: 'case-insensitive', keep: 'first' }),
    t.collapseMultiline({ tables: ['people'], replacement: ' ' }),
    t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({}) }),
    t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
  ],
})
