import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import type { Report } from '../../src/report.js'

/**
 * The child copies that kill tests start and kill with SIGKILL (`copy-child.ts`, `slow-copy-child.ts`). Each is
 * bundled once with esbuild (which tsup brings): started through jiti it compiled the sources on every start
 * (1.7 s of CPU against 0.3 s bundled), and a kill test starts dozens. The bundle sits under node_modules so the
 * drivers, left external, resolve as they do for the sources.
 */

/** What a child run ended with: whether it was killed before its report, its report, its stderr. */
export interface ChildRun {
  killed: boolean
  report?: Report
  stderr: string
}

/** A bundled child: `run` starts it with `args`, `remove` deletes the bundle. */
export interface KillableChild {
  /**
   * Runs the child; once it has printed `killAfterBatches` `batch …` lines, kills it with SIGKILL after up to
   * `jitterMs` random milliseconds (default 0), so kills land at different points of a batch.
   */
  run(args: readonly string[], killAfterBatches?: number, jitterMs?: number): Promise<ChildRun>
  remove(): void
}

/** Bundles `test/resume/<name>.ts` and returns a way to run it (see {@link KillableChild}). */
export async function bundleChild(name: 'copy-child' | 'slow-copy-child'): Promise<KillableChild> {
  const outdir = join(__dirname, '../../node_modules/.cache', `dbferry-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  await build({
    entryPoints: [join(__dirname, `${name}.ts`)],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir,
    logLevel: 'warning',
  })
  return {
    run: (args, killAfterBatches, jitterMs = 0) => runChild(join(outdir, `${name}.js`), args, killAfterBatches, jitterMs),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  }
}

function runChild(script: string, args: readonly string[], killAfterBatches: number | undefined, jitterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const batches = out.split('\n').filter((l) => l.startsWith('batch ')).length
      if (killAfterBatches !== undefined && !killed && batches >= killAfterBatches) {
        killed = true
        if (jitterMs > 0) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * jitterMs))
        else child.kill('SIGKILL')
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('REPORT '))
      resolve({ killed: killed && !line, report: line ? (JSON.parse(line.slice(7)) as Report) : undefined, stderr })
    })
  })
}
