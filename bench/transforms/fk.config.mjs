import { defineConfig, transforms as t } from 'dbferry'
export default defineConfig({ transforms: [t.fixDanglingForeignKeys({ strategy: 'stub', stub: () => ({}) })] })
