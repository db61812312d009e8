import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'dialects/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // suites against one server share it; files run in parallel on the two cores. 4 forks ran the slowest
    // files no sooner than 2 and pushed cases past their timeouts; those files run their independent cases
    // side by side instead (describe.concurrent), which overlaps the waits on servers without more processes
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ['test/global-setup.ts'],
  },
})
