import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'dialects/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // suites against one server share it; files run in parallel on the two cores
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ['test/global-setup.ts'],
  },
})
