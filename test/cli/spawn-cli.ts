import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The built `dbferry` bin (`npm run build` makes it; `npm test` builds first). `DBFERRY_BIN` points the tests
 * at another build, e.g. one of an older commit, to see a test fail there.
 */
export const BIN = process.env.DBFERRY_BIN ?? join(process.cwd(), 'dist/cli/main.js')

/** What a finished `dbferry` process left: its exit code (or the signal that killed it) and its output. */
export interface CliProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/**
 * Runs the built bin as a real process, as a user's shell would: signals, exit codes and anything written to
 * `process.stderr` outside the CLI's own streams are what they would be for the user. `watch` sees stderr as
 * it grows (all of it so far), with the child, e.g. to send a signal once a copy is under way.
 */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; watch?: (stderr: string, child: ChildProcess) => void } = {},
): Promise<CliProcessResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      options.watch?.(stderr, child)
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}
