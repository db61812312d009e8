import { UsageError } from './errors.js'

/** Whether an import failed because `pkg` (an optional peer dependency) is not installed. */
export function isMissingPackage(error: unknown, pkg: string): boolean {
  const e = error as { code?: string; message?: string }
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return false
  return typeof e.message === 'string' && (e.message.includes(`'${pkg}'`) || e.message.includes(`"${pkg}"`) || e.message.includes(`'${pkg}/`))
}

/**
 * Runs a lazy import of code that needs the npm packages `packages`; when one of them is not installed, throws
 * a `not_available` {@link UsageError} naming it and how to install it, instead of the runtime's raw
 * `Cannot find package`. `what` says what needed it (`the PostgreSQL dialect`, `the journal`); `hint` is added
 * to the message (e.g. `or run with --no-journal`).
 */
export async function requireDriver<T>(packages: readonly string[], what: string, load: () => Promise<T>, hint?: string): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const missing = packages.find((p) => isMissingPackage(error, p))
    if (missing === undefined) throw error
    throw new UsageError(`${what} needs the package ${missing}, which is not installed: npm install ${packages.join(' ')}${hint ? ` (${hint})` : ''}`, {
      code: 'not_available',
      cause: error,
    })
  }
}
