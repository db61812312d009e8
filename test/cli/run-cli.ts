import { Writable } from 'node:stream'
import { run } from '../../src/cli/run.js'

/** Runs the CLI in-process and captures what it writes. */
export async function runCli(args: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = new Writable({ write(chunk, _e, cb) { stdout += chunk; cb() } })
  const err = new Writable({ write(chunk, _e, cb) { stderr += chunk; cb() } })
  const code = await run(args, { stdout: out, stderr: err, env: process.env, cwd })
  return { code, stdout, stderr }
}
