/** Small SQL text helpers shared by the SQLite files. */

/** Quotes an SQLite identifier: wraps it in `"` and doubles any `"` inside. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * Splits a `CREATE INDEX … ON t (body) WHERE cond` statement into the parenthesised body and the WHERE
 * condition, skipping quoted names and strings. Returns undefined when the text has no column list.
 */
export function splitIndexSql(sql: string): { body: string; where?: string } | undefined {
  let i = 0
  let start = -1
  let depth = 0
  let end = -1
  const n = sql.length
  while (i < n) {
    const ch = sql[i]!
    if (ch === '"' || ch === '`' || ch === "'" || ch === '[') {
      const close = ch === '[' ? ']' : ch
      i++
      while (i < n) {
        if (sql[i] === close) {
          if (close !== ']' && sql[i + 1] === close) {
            i += 2
            continue
          }
          break
        }
        i++
      }
      i++
      continue
    }
    if (ch === '(') {
      if (depth === 0 && start < 0) start = i + 1
      depth++
    } else if (ch === ')') {
      depth--
      if (depth === 0 && start >= 0) {
        end = i
        break
      }
    }
    i++
  }
  if (start < 0 || end < 0) return undefined
  const body = sql.slice(start, end).trim()
  const rest = sql.slice(end + 1)
  const m = /\bwhere\b([\s\S]*)$/i.exec(rest)
  return m ? { body, where: m[1]!.trim() } : { body }
}

/** Whether `sql` mentions `name` as a whole word or quoted identifier (for view dependencies). */
export function mentions(sql: string, name: string): boolean {
  const lower = sql.toLowerCase()
  const n = name.toLowerCase()
  let from = 0
  for (;;) {
    const at = lower.indexOf(n, from)
    if (at < 0) return false
    const before = lower[at - 1]
    const after = lower[at + n.length]
    const edge = (c: string | undefined) => c === undefined || !/[a-z0-9_$]/.test(c)
    if (edge(before) && edge(after)) return true
    from = at + 1
  }
}

/** Splits `text` at top-level commas (outside parentheses, quotes and strings). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '"' || ch === '`' || ch === "'" || ch === '[') {
      const close = ch === '[' ? ']' : ch
      i++
      while (i < text.length && !(text[i] === close && !(close !== ']' && text[i + 1] === close && ++i))) i++
      continue
    }
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(from, i))
      from = i + 1
    }
  }
  parts.push(text.slice(from))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

/** Reads one identifier (quoted or bare) at the start of `text`; returns it and the rest. */
function leadingName(text: string): [string, string] | undefined {
  const quoted = /^(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\])/.exec(text)
  if (quoted) {
    const name = quoted[1] !== undefined ? quoted[1].replaceAll('""', '"') : quoted[2] !== undefined ? quoted[2].replaceAll('``', '`') : quoted[3]!
    return [name, text.slice(quoted[0].length)]
  }
  const bare = /^([^\s(,]+)/.exec(text)
  return bare ? [bare[1]!, text.slice(bare[0].length)] : undefined
}

const TABLE_CONSTRAINT = /^(constraint|primary|unique|check|foreign)\b/i

/**
 * What `pragma table_xinfo` does not tell about columns, read from the `CREATE TABLE` text: each column's
 * `COLLATE` name, keyed by the lower-cased column name.
 */
export function columnCollations(createSql: string): Map<string, string> {
  const collations = new Map<string, string>()
  const body = splitIndexSql(createSql)?.body
  if (body === undefined) return collations
  for (const part of splitTopLevel(body)) {
    if (TABLE_CONSTRAINT.test(part)) continue
    const lead = leadingName(part)
    if (!lead) continue
    // strings and quoted names in the rest must not be mistaken for the keyword
    const rest = lead[1].replace(/'(?:[^']|'')*'/g, "''")
    const m = /\bcollate\s+("(?:[^"]|"")*"|\w+)/i.exec(rest)
    if (m) collations.set(lead[0].toLowerCase(), m[1]!.replace(/^"|"$/g, '').replaceAll('""', '"'))
  }
  return collations
}
