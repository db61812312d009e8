import type { Report } from '../report.js'
import { STOP_SIGNALS, type StopSignal } from './interrupt.js'

/** How the CLI's run ended, beyond the report: the signal that stopped it. Default: none. */
export interface RunEnding {
  signal?: StopSignal
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s)
  return right ? t.padStart(n) : t.padEnd(n)
}

/** The report as text for a terminal or a log: a table of counts, then what was rejected and why. */
export function formatReport(report: Report, ending: RunEnding = {}): string {
  const lines: string[] = []
  const w = Math.max(5, ...report.tables.map((t) => t.name.length))
  lines.push(`${report.source} → ${report.target}`)
  lines.push('')
  lines.push(`${pad('table', w)}  ${pad('read', 9, true)}  ${pad('written', 9, true)}  ${pad('rejected', 9, true)}  ${pad('dropped', 9, true)}  ${pad('added', 6, true)}  ${pad('fixed', 6, true)}  ${pad('ms', 7, true)}  status`)
  for (const t of report.tables) {
    const fixed = Object.values(t.fixed).reduce((a, b) => a + b, 0)
    lines.push(
      `${pad(t.name, w)}  ${pad(t.read, 9, true)}  ${pad(t.written, 9, true)}  ${pad(t.rejected, 9, true)}  ${pad(t.dropped, 9, true)}  ${pad(t.inserted, 6, true)}  ${pad(fixed, 6, true)}  ${pad(t.ms, 7, true)}  ${t.status}${t.path === 'pass-through' ? ' (pass-through)' : ''}${t.error ? `: ${t.error}` : ''}`,
    )
  }
  const s = report.totals
  lines.push(`${pad('total', w)}  ${pad(s.read, 9, true)}  ${pad(s.written, 9, true)}  ${pad(s.rejected, 9, true)}  ${pad(s.dropped, 9, true)}  ${pad(s.inserted, 6, true)}  ${pad(s.fixed, 6, true)}  ${pad(report.ms, 7, true)}`)
  const problems = report.tables.filter((t) => t.examples.length > 0)
  if (problems.length > 0) {
    lines.push('', 'Rejected and dropped rows:')
    for (const t of problems) {
      const kinds = Object.entries(t.byKind).map(([k, n]) => `${k} ×${n}`).join(', ')
      lines.push(`  ${t.name}: ${kinds}`)
      for (const e of t.examples) {
        lines.push(`    ${e.action} ${e.kind}${e.key ? ` key ${e.key}` : ''}${e.column ? ` column ${e.column}` : ''} (${e.by}): ${e.message}`)
      }
      const shown = t.examples.length
      const total = t.rejected + t.dropped
      if (total > shown) lines.push(`    … and ${total - shown} more`)
    }
  }
  const notes = report.tables.filter((t) => t.pathNote !== undefined)
  if (notes.length > 0) {
    lines.push('', 'Loaded row by row instead of passing the CSV through:')
    for (const t of notes) lines.push(`  ${t.name}: ${t.pathNote}`)
  }
  const fixes = report.tables.filter((t) => Object.keys(t.fixed).length > 0)
  if (fixes.length > 0) {
    lines.push('', 'Changed values:')
    for (const t of fixes) lines.push(`  ${t.name}: ${Object.entries(t.fixed).map(([c, n]) => `${c} ×${n}`).join(', ')}`)
  }
  if (report.renames.length > 0) {
    lines.push('', 'Renamed on the target:')
    for (const r of report.renames) lines.push(`  ${r.kind} ${r.table ? `${r.table}.` : ''}${r.from} → ${r.to} (${r.reason})`)
  }
  if (report.constraints.length > 0) {
    lines.push('', 'Constraints:')
    for (const c of report.constraints) {
      lines.push(`  ${c.table}.${c.name} (${c.kind}) ${c.outcome}${c.orphans !== undefined ? `, ${c.orphans} orphan row(s)` : ''}: ${c.message}`)
    }
  }
  if (report.objects.length > 0) {
    lines.push('', 'Views and functions:')
    for (const o of report.objects) lines.push(`  ${o.name}: ${o.ok ? 'created' : `failed: ${o.error}`}`)
  }
  const sourceNotes = report.snapshot?.notes ?? []
  if (sourceNotes.length > 0) {
    lines.push('', `From the source (${report.snapshot?.notApplied ? `${report.snapshot.notApplied} object(s) or statement(s) with data not applied` : 'notes'}):`)
    for (const n of sourceNotes) lines.push(`  ${n}`)
  }
  // --preflight warn: what the scan found before the copy; --verify: what the comparison after it found
  if (report.preflight && report.preflight.length > 0) {
    lines.push('', `Preflight found (${report.preflight.length}):`)
    for (const i of report.preflight) lines.push(`  ${i.kind} ${i.table}${i.column ? `.${i.column}` : ''}: ${i.message} (${i.count} row${i.count === 1 ? '' : 's'})`)
  }
  if (report.verify) {
    const differ = report.verify.tables.filter((t) => !t.equal)
    lines.push('', `Verify: ${report.verify.equal ? 'EQUAL' : 'DIFFERENT'}${differ.map((t) => `\n  ${t.name}: ${t.missing} missing, ${t.extra} extra, ${t.changed} changed`).join('')}`)
  }
  if (report.journal) lines.push('', `Journal: ${report.journal} (dbferry rejects ${report.journal})`)
  if (report.error) lines.push('', `Stopped: ${report.error.message} [${report.error.code}]`)
  lines.push('', verdict(report, ending))
  return lines.join('\n')
}

/** The report's last line: how the run ended and the exit code that goes with it. */
function verdict(report: Report, ending: RunEnding): string {
  if (ending.signal) {
    const resume = report.journal ? ': run the same command with --resume to continue from the checkpoint' : ''
    return `Stopped by ${ending.signal} (exit code ${STOP_SIGNALS[ending.signal]})${resume}.`
  }
  if (!report.ok) return 'Failed (exit code 1).'
  return report.clean ? 'Done: every row written.' : 'Done, with rows rejected or dropped, constraints or views not created or validated, or source statements not applied (exit code 3).'
}

/**
 * The report as the CLI's `--json` prints it. bigint-safe. A run stopped by a signal also carries
 * `signal` and `exitCode`.
 */
export function reportJson(report: Report, ending: RunEnding = {}): string {
  return JSON.stringify(
    {
      ok: report.ok,
      clean: report.clean,
      source: report.source,
      target: report.target,
      tables: report.tables.map((t) => ({
        name: t.name,
        ...(t.source ? { source: t.source } : {}),
        status: t.status,
        read: t.read,
        written: t.written,
        rejected: t.rejected,
        dropped: t.dropped,
        inserted: t.inserted,
        fixed: t.fixed,
        byKind: t.byKind,
        examples: t.examples,
        ms: t.ms,
        ...(t.chunks ? { chunks: t.chunks } : {}),
        ...(t.path ? { path: t.path } : {}),
        ...(t.pathNote ? { pathNote: t.pathNote } : {}),
        ...(t.error ? { error: t.error } : {}),
      })),
      totals: report.totals,
      renames: report.renames,
      constraints: report.constraints,
      deferredForeignKeys: report.deferredForeignKeys.map((d) => ({ table: d.table, references: d.foreignKey.refTable, columns: d.foreignKey.columns, reason: d.reason })),
      objects: report.objects,
      snapshot: report.snapshot,
      ...(report.preflight ? { preflight: report.preflight } : {}),
      ...(report.verify ? { verify: report.verify } : {}),
      ...(report.journal ? { journal: report.journal } : {}),
      ms: report.ms,
      ...(report.error ? { error: report.error } : {}),
      ...(ending.signal ? { signal: ending.signal, exitCode: STOP_SIGNALS[ending.signal] } : {}),
    },
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
    2,
  )
}
