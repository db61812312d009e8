import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, a free port on 127.0.0.1), so a test can crash
 * it with SIGKILL and start it again on the same data dir (crash recovery), which the shared server at 5432
 * must never suffer. Runs as the `postgres` user when the tests run as root (initdb and postgres refuse root).
 */

/** The directory of `initdb`, `postgres` (the newest `/usr/lib/postgresql/<n>/bin`, or `DBFERRY_PG_BIN`), or undefined. */
export function postgresBinaries(): string | undefined {
  const candidates = process.env.DBFERRY_PG_BIN
    ? [process.env.DBFERRY_PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')))
}

/** A server the test owns: its URL, and how to crash, restart and remove it. */
export interface PrivatePostgres {
  url: string
  /** SIGKILL to the postmaster and every one of its children, then waits until they are gone. */
  crash(): Promise<void>
  /** Starts the server again on the same data dir (it runs crash recovery) and waits until it answers. */
  start(): Promise<void>
  /** Stops the server (SIGKILL) and removes its directory. */
  remove(): Promise<void>
}

/** Waits for `check` to hold, every `everyMs` (default 25), failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** The uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {}
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  }
}

/** The pids whose parent is `pid` (from /proc: no `ps` needed). */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // the command name is in parentheses and may hold spaces: the fields after the last ')' are fixed
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

/** Whether `pid` still runs (a zombie, dead but not yet reaped by whoever adopted it, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/**
 * initdb's a fresh cluster (trust auth, user `postgres`) and starts it on a free port of 127.0.0.1, with
 * `fsync = on` and the extra `settings` (`-c name=value`). Every wait is bounded.
 */
export async function startPrivatePostgres(bin: string, settings: Record<string, string> = {}): Promise<PrivatePostgres> {
  const user = serverUser()
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-pg-'))
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!)
  const data = join(dir, 'data')
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-N'], { ...user, stdio: 'ignore', timeout: 30_000 })
  const port = await freePort()
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on']
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`)
  let postmaster: ChildProcess | undefined
  let log = ''

  const answers = async (): Promise<boolean> => {
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 })
    try {
      await c.connect()
      await c.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await c.end().catch(() => {})
    }
  }

  const server: PrivatePostgres = {
    url,
    async start() {
      log = ''
      const child = spawn(join(bin, 'postgres'), args, { ...user, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
      postmaster = child
      try {
        await waitFor('the private PostgreSQL server to answer', async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited: ${log}`)
          return answers()
        }, 20_000, 100)
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${log}`)
      }
    },
    async crash() {
      const pid = postmaster?.pid
      if (pid === undefined || !alive(pid)) return
      const children = childrenOf(pid)
      process.kill(pid, 'SIGKILL')
      for (const c of children) {
        try {
          process.kill(c, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      await waitFor('the crashed server processes to be gone', () => !alive(pid) && children.every((c) => !alive(c)), 10_000)
    },
    async remove() {
      await server.crash().catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    await server.start()
  } catch (e) {
    await server.remove()
    throw e
  }
  return server
}
