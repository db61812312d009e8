import type { TableVerification, VerifyReport } from './verify.js'

function keyText(key: Record<string, unknown>): string {
  const entries = Object.entries(key)
  return entries.length === 1 ? `${entries[0]![0]}=${JSON.stringify(entries[0]![1])}` : JSON.stringify(key)
}

function tableLines(t: TableVerification, limit: number): string[] {
  const name = t.nameB ? `${t.name} → ${t.nameB}` : t.name
  if (t.equal) return [`  = ${name}: ${t.rowsA} rows equal${t.expectedDropped ? ` (${t.expectedDropped} expected dropped)` : ''}`]
  const lines = [`  ≠ ${name}: ${t.rowsA} rows on a, ${t.rowsB} on b`]
  for (const p of t.problems) lines.push(`      ${p}`)
  if (t.unreadableA) lines.push(`      ${t.unreadableA} row(s) on a could not be read`)
  if (t.unreadableB) lines.push(`      ${t.unreadableB} row(s) on b could not be read`)
  const more = (shown: number, count: number) => (count > shown ? [`        … and ${count - shown} more`] : [])
  if (t.missingCount) {
    lines.push(`      missing on b (${t.missingCount}):`)
    const shown = t.missing.slice(0, limit)
    for (const k of shown) lines.push(`        - ${keyText(k)}`)
    lines.push(...more(shown.length, t.missingCount))
  }
  if (t.extraCount) {
    lines.push(`      extra on b (${t.extraCount}):`)
    const shown = t.extra.slice(0, limit)
    for (const k of shown) lines.push(`        + ${keyText(k)}`)
    lines.push(...more(shown.length, t.extraCount))
  }
  if (t.changedCount) {
    lines.push(`      changed (${t.changedCount}):`)
    const shown = t.changed.slice(0, limit)
    for (const c of shown) lines.push(`        ~ ${keyText(c.key)}: ${c.columns.join(', ')}`)
    lines.push(...more(shown.length, t.changedCount))
  }
  return lines
}

/**
 * A readable text form of a {@link VerifyReport}: one line per equal table, and for each differing table its
 * problems and the keys of missing, extra and changed rows (up to `limit` each, default 20).
 */
export function formatVerifyReport(report: VerifyReport, options: { limit?: number; equalTables?: boolean } = {}): string {
  const limit = options.limit ?? 20
  const lines = [`verify ${report.a}  ↔  ${report.b}: ${report.equal ? 'EQUAL' : 'DIFFERENT'}`]
  for (const t of report.tables) {
    if (t.equal && options.equalTables === false) continue
    lines.push(...tableLines(t, limit))
  }
  return lines.join('\n')
}
