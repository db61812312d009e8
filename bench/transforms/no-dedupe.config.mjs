import { defineConfig, transforms as t } from 'dbferry'
export default defineConfig({
  transforms: [
    t.collapseMultiline({ tables: ['people'], replacement: ' ' }),
    t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({}) }),
    t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
  ],
})
