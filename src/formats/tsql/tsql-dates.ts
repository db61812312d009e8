import { daysInMonth } from '../../schema/values.js'
import type { DateFormat } from './tsql-parser.js'

/**
 * How SQL Server reads a date/time string literal into `datetime`, `smalldatetime`, `date` or `datetime2`
 * (us_english): ISO 8601 (`2021-01-01T10:00:00`) and unseparated (`19980101`) forms whatever the
 * DATEFORMAT; numeric forms with `/`, `-` or `.` in the DATEFORMAT's order (`1962/2/18`, `18.2.62`);
 * month names (`Jan 1 1998`, `1 January 1998`, `January 1, 1998`); a time part with `.` or `:` before the
 * fraction and AM/PM; an empty string or a time alone on 1900-01-01.
 */

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/i
const TIME = /(?:^|\s+)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:([.:])(\d{1,7}))?)?)?\s*(AM|PM)?$/i
const NUMERIC = /^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})$/

/** A literal read as SQL Server reads it: `date` is `YYYY-MM-DD`, `time` `HH:MM:SS[.f]` when written. */
export interface DateLiteral {
  date: string
  time?: string
}

/**
 * Reads `text` as SQL Server would. `legacy` is true for `datetime` and `smalldatetime`, where even a
 * year-first numeric literal (`2021-02-01`) follows the DATEFORMAT's day/month order (ydm under dmy); the
 * newer types read it as ymd. Undefined when SQL Server would refuse it.
 */
export function readDateLiteral(text: string, format: DateFormat, legacy: boolean): DateLiteral | undefined {
  const s = text.trim()
  if (s === '') return { date: '1900-01-01' }
  const iso = ISO.exec(s)
  if (iso) return make(iso[1]!, iso[2]!, iso[3]!, timeOf(iso[4]!, iso[5]!, iso[6], iso[7], undefined))
  // a time part needs a colon (or AM/PM): a lone number is part of the date
  const t = /:|\s(AM|PM)$|\d(AM|PM)$/i.test(s) ? TIME.exec(s) : null
  const datePart = t ? s.slice(0, t.index).trim() : s
  const time = t ? timeOf(t[1]!, t[2] ?? '0', t[3], t[5] && t[4] === ':' ? t[5].padStart(3, '0') : t[5], t[6]) : undefined
  if (t && time === undefined) return undefined
  if (datePart === '') return { date: '1900-01-01', ...(time ? { time } : {}) }
  const ymd = dateOf(datePart, format, legacy)
  return ymd ? make(ymd[0], ymd[1], ymd[2], time) : undefined
}

function dateOf(s: string, format: DateFormat, legacy: boolean): [string, string, string] | undefined {
  if (/^\d{8}$/.test(s)) return [s.slice(0, 4), s.slice(4, 6), s.slice(6, 8)]
  if (/^\d{6}$/.test(s)) return [fullYear(s.slice(0, 2)), s.slice(2, 4), s.slice(4, 6)]
  const n = NUMERIC.exec(s)
  if (n) {
    const parts = [n[1]!, n[3]!, n[4]!]
    if (n[1]!.length === 4) {
      // year first: the other two in the DATEFORMAT's order of day and month (datetime), else month then day
      const dayFirst = legacy && format.indexOf('d') < format.indexOf('m')
      return [parts[0]!, dayFirst ? parts[2]! : parts[1]!, dayFirst ? parts[1]! : parts[2]!]
    }
    const at = (c: string) => parts[format.indexOf(c)]!
    return [fullYear(at('y')), at('m'), at('d')]
  }
  return namedMonth(s)
}

/** `Jan 1 1998`, `1 January 1998`, `January 1, 1998`, `1998 Jan 1`, `Jan 1998` (the 1st). */
function namedMonth(s: string): [string, string, string] | undefined {
  const words = s.split(/[\s,./-]+/).filter((w) => w !== '')
  const month = words.findIndex((w) => /^[a-z]+$/i.test(w))
  if (month < 0 || words.filter((w) => /^[a-z]+$/i.test(w)).length !== 1) return undefined
  const word = words[month]!.toLowerCase()
  // a month's name or its start, three letters at least (`Jan`, `Sept`, `January`)
  const m = word.length >= 3 ? MONTH_NAMES.findIndex((name) => name.startsWith(word)) : -1
  if (m < 0) return undefined
  const nums = words.filter((w, i) => i !== month)
  if (nums.length === 0 || nums.length > 2 || nums.some((x) => !/^\d{1,4}$/.test(x))) return undefined
  const mm = String(m + 1)
  if (nums.length === 1) return nums[0]!.length === 4 ? [nums[0]!, mm, '1'] : undefined
  const four = nums.findIndex((x) => x.length === 4)
  if (four >= 0) return [nums[four]!, mm, nums[1 - four]!]
  return [fullYear(nums[1]!), mm, nums[0]!]
}

/** Two-digit years: SQL Server's default cutoff 2049 (49 → 2049, 50 → 1950). */
function fullYear(y: string): string {
  if (y.length > 2) return y.padStart(4, '0')
  const n = Number(y)
  return String(n <= 49 ? 2000 + n : 1900 + n)
}

function timeOf(h: string, m: string, sec: string | undefined, fraction: string | undefined, ampm: string | undefined): string | undefined {
  let hour = Number(h)
  if (ampm) {
    if (hour < 1 || hour > 12) return undefined
    hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0)
  }
  const minute = Number(m)
  const second = Number(sec ?? '0')
  if (hour > 23 || minute > 59 || second > 59) return undefined
  const f = fraction ? `.${fraction}` : ''
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}${f}`
}

function make(y: string, m: string, d: string, time: string | undefined): DateLiteral | undefined {
  const year = Number(y)
  const month = Number(m)
  const day = Number(d)
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  const date = `${y.padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
  return time ? { date, time } : { date }
}
