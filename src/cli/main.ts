#!/usr/bin/env node
import { redact } from '../errors.js'
import { boundHeapGrowth } from './heap.js'
import { run } from './run.js'

boundHeapGrowth()

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`dbferry: ${redact(error instanceof Error ? error.message : String(error))}\n`)
    process.exitCode = 1
  },
)
