import type { TableVerification, VerifyReport } from './verify.js'

function keyText(key: Record<string, unknown>): string {
  const entries = Object.entries(key)
  return entries.length === 1 ? `${entries[0]![0]}=${JSON.stringify(entries[0]![1])}` : JSON.stringify(key)
}

/** A table's expected differences in words: `2 expected dropped, 1 expected changed`; empty when none. */
function expectedText(t: TableVerification): string {
  const parts: string[] = []
  if (t.expectedDropped) parts.push(`${t.expectedDropped} expected dropped`)
  if (t.expectedChanged) parts.push(`${t.expectedChanged} expected changed`)
  if (t.expectedInserted) parts.push(`${t.expectedInserted} expected inserted`)
  return parts.join(', ')
}

/**
 * The verdict: `EQUAL`; `EQUAL with N expected differences` when the rows differ only as the copy's journal
 * says they should; or `DIFFERENT`.
 */
function verdict(report: VerifyReport): string {
  if (!report.equal) return 'DIFFERENT'
  const e = report.expected
  const n = e ? e.dropped + e.changed + e.inserted : report.tables.reduce((s, t) => s + t.expectedDropped, 0)
  return n === 0 ? 'EQUAL' : `EQUAL with ${n} expected difference${n === 1 ? '' : 's'}`
}

function tableLines(t: TableVerification, limit: number): string[] {
  const name = t.nameB ? `${t.name} → ${t.nameB}` : t.name
  const expected = expectedText(t)
  if (t.equal) return [`  = ${name}: ${t.rowsA} rows equal${expected ? ` (${expected})` : ''}`]
  const lines = [`  ≠ ${name}: ${t.rowsA} rows on a, ${t.rowsB} on b${expected ? ` (besides ${expected})` : ''}`]
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
  const lines = [`verify ${report.a}  ↔  ${report.b}: ${verdict(report)}`]
  const e = report.expected
  if (e) {
    const counts = [`${e.dropped} rejected or dropped`, `${e.changed} fixed`, `${e.inserted} inserted`, `${report.excluded.length} table${report.excluded.length === 1 ? '' : 's'} excluded`]
    lines.push(`  expected from ${e.origin}: ${counts.join(', ')}`)
  }
  for (const t of report.tables) {
    if (t.equal && options.equalTables === false) continue
    lines.push(...tableLines(t, limit))
  }
  for (const name of report.excluded) lines.push(`  - ${name}: excluded by the copy, not compared`)
  return lines.join('\n')
}
