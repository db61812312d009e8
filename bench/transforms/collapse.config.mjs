import { defineConfig, transforms as t } from 'dbferry'
export default defineConfig({ transforms: [t.collapseMultiline({ tables: ['people'], replacement: ' ' })] })
