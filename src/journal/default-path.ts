import { basename, extname } from 'node:path'

/** The default journal when the target has no name to give it (a connection object, an empty URL). */
export const FALLBACK_JOURNAL = 'dbferry-journal.sqlite'

/** Longest name part taken from the target, in characters; a longer one is cut (names stay readable in `ls`). */
const MAX_NAME = 60

/**
 * The journal file the CLI uses when none is given: one per target, named after it, in the working directory
 * (`sqlite:./out/app.db` → `dbferry-journal-app.sqlite`; `postgres://u:pw@db.local:5432/sahana?schema=s` →
 * `dbferry-journal-postgres-db.local-sahana-s.sqlite`), so runs into different targets do not pile up in one
 * file. A server URL gives its scheme, host, database and `schema` parameter — never a user or password; a
 * file URL gives the file's name without its extension. A target that is not a URL gives
 * {@link FALLBACK_JOURNAL}.
 *
 * @param to the run's target, as `ferry()`'s `to` option takes it.
 */
export function defaultJournalPath(to: unknown): string {
  const name = typeof to === 'string' ? targetName(to) : ''
  return name === '' ? FALLBACK_JOURNAL : `dbferry-journal-${name}.sqlite`
}

/** The readable part of a target URL, reduced to `[A-Za-z0-9._-]`; empty when there is none. */
function targetName(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)
  const rest = scheme ? url.slice(scheme[0].length) : url
  const server = /^\/\/([^/?#]*)([^?#]*)(\?[^#]*)?/.exec(rest)
  const parts =
    server && authorityHost(server[1]!) !== ''
      ? [scheme![1]!.split('+')[0]!, authorityHost(server[1]!), ...server[2]!.split('/').filter(Boolean), new URLSearchParams(server[3] ?? '').get('schema') ?? '']
      : [fileName(server ? server[2]! : rest)]
  return clean(parts.filter(Boolean).join('-'))
}

/** The host of `user:password@host:port`: what follows the last `@`, without the port. */
function authorityHost(authority: string): string {
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
  return hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d*$/, '')
}

/** A file's or folder's name without its extension (`./out/app.db` → `app`, `./csv/` → `csv`). */
function fileName(path: string): string {
  const base = basename(path.split(/[?#]/)[0]!.replace(/[\\/]+$/, ''))
  return base === ':memory:' ? '' : base.slice(0, base.length - extname(base).length) || base
}

/** Keeps `[A-Za-z0-9._-]`, one `-` for any run of other characters (and of `-`), at most {@link MAX_NAME} characters. */
function clean(name: string): string {
  return name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_NAME)
    .replace(/[-.]+$/, '')
}
