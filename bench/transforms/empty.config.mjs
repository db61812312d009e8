import { defineConfig } from 'dbferry'
export default defineConfig({ transforms: [] })
