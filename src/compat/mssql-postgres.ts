/**
 * The SQL Server compatibility pack for PostgreSQL: functions with SQL Server's names and behaviour, so views
 * and functions ported from T-SQL keep working with small edits (`DATEDIFF(year, a, b)` becomes
 * `mssql.datediff('year', a, b)`). Plain SQL text, installed by `installCompat`.
 *
 * Behaviour follows SQL Server's documentation:
 * - `datediff` counts the date-part boundaries crossed between the two values (not elapsed time):
 *   `datediff('year', '2019-12-31', '2020-01-01')` is 1. Week boundaries are Sundays, whatever DATEFIRST says.
 * - `dateadd` keeps month ends as SQL Server does (`dateadd('month', 1, '2019-01-31')` is 2019-02-28);
 *   on a `date` it refuses the time parts, as SQL Server does.
 * - `datepart('weekday', …)` and `datename` assume `SET DATEFIRST 7` and `us_english` (SQL Server's defaults).
 * - `len` ignores trailing spaces (not leading ones); `charindex` compares case-insensitively, like SQL
 *   Server's default collations, and returns 0 when nothing is found.
 * - Date parts are given as text and accept SQL Server's abbreviations (`yy`, `qq`, `mm`, `wk`, `dd`, `hh`,
 *   `mi`, `ss`, `ms`, `dy`, `dw`, …).
 */

/** The functions the pack creates, for documentation and the CLI. */
export const MSSQL_COMPAT_FUNCTIONS = [
  'year', 'month', 'day', 'quarter', 'eomonth', 'datename', 'datepart', 'dateadd', 'datediff', 'getdate',
  'isnull', 'len', 'charindex',
] as const

/** Quotes a PostgreSQL identifier. */
function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/**
 * The statements that install the pack into `schema` (default `mssql`). Every statement is idempotent
 * (`CREATE SCHEMA IF NOT EXISTS`, `CREATE OR REPLACE FUNCTION`), so installing twice is harmless.
 */
export function mssqlPostgresCompatSql(schema = 'mssql'): string[] {
  const s = q(schema)
  const out: string[] = [`CREATE SCHEMA IF NOT EXISTS ${s}`]

  // the canonical name of a date part, or an error naming the bad one
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datepart_name(part text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
  CASE lower(btrim(part))
    WHEN 'year', 'yy', 'yyyy' THEN RETURN 'year';
    WHEN 'quarter', 'qq', 'q' THEN RETURN 'quarter';
    WHEN 'month', 'mm', 'm' THEN RETURN 'month';
    WHEN 'dayofyear', 'dy', 'y' THEN RETURN 'dayofyear';
    WHEN 'day', 'dd', 'd' THEN RETURN 'day';
    WHEN 'week', 'wk', 'ww' THEN RETURN 'week';
    WHEN 'weekday', 'dw', 'w' THEN RETURN 'weekday';
    WHEN 'hour', 'hh' THEN RETURN 'hour';
    WHEN 'minute', 'mi', 'n' THEN RETURN 'minute';
    WHEN 'second', 'ss', 's' THEN RETURN 'second';
    WHEN 'millisecond', 'ms' THEN RETURN 'millisecond';
    ELSE RAISE EXCEPTION 'unknown date part %', part USING ERRCODE = '22023';
  END CASE;
END $f$`)

  // year / month / day / quarter on the three date-time types
  const parts: [string, string][] = [['year', 'year'], ['month', 'month'], ['day', 'day'], ['quarter', 'quarter']]
  for (const [fn, field] of parts) {
    out.push(`CREATE OR REPLACE FUNCTION ${s}.${fn}(d timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT extract(${field} FROM d)::integer $f$`)
    out.push(`CREATE OR REPLACE FUNCTION ${s}.${fn}(d date) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT extract(${field} FROM d)::integer $f$`)
    out.push(`CREATE OR REPLACE FUNCTION ${s}.${fn}(d timestamptz) RETURNS integer LANGUAGE sql STABLE AS $f$ SELECT extract(${field} FROM d::timestamp)::integer $f$`)
  }

  // eomonth(date [, months_to_add])
  out.push(`CREATE OR REPLACE FUNCTION ${s}.eomonth(d date, months integer DEFAULT 0) RETURNS date LANGUAGE sql IMMUTABLE AS $f$
  SELECT (date_trunc('month', d) + make_interval(months => coalesce(months, 0) + 1) - interval '1 day')::date $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.eomonth(d timestamp, months integer DEFAULT 0) RETURNS date LANGUAGE sql IMMUTABLE AS $f$ SELECT ${s}.eomonth(d::date, months) $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.eomonth(d timestamptz, months integer DEFAULT 0) RETURNS date LANGUAGE sql STABLE AS $f$ SELECT ${s}.eomonth(d::timestamp::date, months) $f$`)

  // datepart(part, d): integer, DATEFIRST 7 (Sunday is weekday 1, week 1 holds January 1)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datepart(part text, d timestamp) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE p text := ${s}.datepart_name(part);
BEGIN
  IF d IS NULL THEN RETURN NULL; END IF;
  CASE p
    WHEN 'year' THEN RETURN extract(year FROM d)::integer;
    WHEN 'quarter' THEN RETURN extract(quarter FROM d)::integer;
    WHEN 'month' THEN RETURN extract(month FROM d)::integer;
    WHEN 'dayofyear' THEN RETURN extract(doy FROM d)::integer;
    WHEN 'day' THEN RETURN extract(day FROM d)::integer;
    WHEN 'week' THEN RETURN ${s}.datediff('week', date_trunc('year', d), d) + 1;
    WHEN 'weekday' THEN RETURN extract(dow FROM d)::integer + 1;
    WHEN 'hour' THEN RETURN extract(hour FROM d)::integer;
    WHEN 'minute' THEN RETURN extract(minute FROM d)::integer;
    WHEN 'second' THEN RETURN floor(extract(second FROM d))::integer;
    ELSE RETURN floor(extract(milliseconds FROM d))::integer % 1000;
  END CASE;
END $f$`)

  // datediff(part, start, end): boundaries crossed
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datediff(part text, startdate timestamp, enddate timestamp) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE p text := ${s}.datepart_name(part);
BEGIN
  IF startdate IS NULL OR enddate IS NULL THEN RETURN NULL; END IF;
  CASE p
    WHEN 'year' THEN
      RETURN extract(year FROM enddate)::integer - extract(year FROM startdate)::integer;
    WHEN 'quarter' THEN
      RETURN (extract(year FROM enddate)::integer * 4 + extract(quarter FROM enddate)::integer)
           - (extract(year FROM startdate)::integer * 4 + extract(quarter FROM startdate)::integer);
    WHEN 'month' THEN
      RETURN (extract(year FROM enddate)::integer * 12 + extract(month FROM enddate)::integer)
           - (extract(year FROM startdate)::integer * 12 + extract(month FROM startdate)::integer);
    WHEN 'week' THEN
      -- both days moved back to their Sunday; the Sundays in between are the boundaries
      RETURN ((enddate::date - extract(dow FROM enddate)::integer) - (startdate::date - extract(dow FROM startdate)::integer)) / 7;
    WHEN 'day', 'dayofyear', 'weekday' THEN
      RETURN enddate::date - startdate::date;
    WHEN 'hour' THEN
      RETURN (extract(epoch FROM date_trunc('hour', enddate) - date_trunc('hour', startdate)) / 3600)::integer;
    WHEN 'minute' THEN
      RETURN (extract(epoch FROM date_trunc('minute', enddate) - date_trunc('minute', startdate)) / 60)::integer;
    WHEN 'second' THEN
      RETURN extract(epoch FROM date_trunc('second', enddate) - date_trunc('second', startdate))::integer;
    ELSE
      RETURN round(extract(epoch FROM date_trunc('milliseconds', enddate) - date_trunc('milliseconds', startdate)) * 1000)::integer;
  END CASE;
END $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datediff(part text, startdate date, enddate date) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT ${s}.datediff(part, startdate::timestamp, enddate::timestamp) $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datediff(part text, startdate timestamptz, enddate timestamptz) RETURNS integer LANGUAGE sql STABLE AS $f$ SELECT ${s}.datediff(part, startdate::timestamp, enddate::timestamp) $f$`)

  // datepart overloads (after datediff exists, which it calls)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datepart(part text, d date) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT ${s}.datepart(part, d::timestamp) $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datepart(part text, d timestamptz) RETURNS integer LANGUAGE sql STABLE AS $f$ SELECT ${s}.datepart(part, d::timestamp) $f$`)

  // dateadd(part, number, d): number is truncated to an integer, as SQL Server does
  const interval = `CASE ${s}.datepart_name(part)
      WHEN 'year' THEN make_interval(years => n)
      WHEN 'quarter' THEN make_interval(months => 3 * n)
      WHEN 'month' THEN make_interval(months => n)
      WHEN 'week' THEN make_interval(weeks => n)
      WHEN 'hour' THEN make_interval(hours => n)
      WHEN 'minute' THEN make_interval(mins => n)
      WHEN 'second' THEN make_interval(secs => n)
      WHEN 'millisecond' THEN make_interval(secs => n / 1000.0)
      ELSE make_interval(days => n) END`
  out.push(`CREATE OR REPLACE FUNCTION ${s}.dateadd(part text, number double precision, d timestamp) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE n integer := trunc(number)::integer;
BEGIN
  RETURN d + ${interval};
END $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.dateadd(part text, number double precision, d timestamptz) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $f$
DECLARE n integer := trunc(number)::integer;
BEGIN
  RETURN d + ${interval};
END $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.dateadd(part text, number double precision, d date) RETURNS date LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE n integer := trunc(number)::integer;
BEGIN
  IF ${s}.datepart_name(part) IN ('hour', 'minute', 'second', 'millisecond') THEN
    RAISE EXCEPTION 'the datepart % is not supported by dateadd for data type date', part USING ERRCODE = '22023';
  END IF;
  RETURN (d + ${interval})::date;
END $f$`)

  // datename(part, d): text; month and weekday names in English (us_english)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datename(part text, d timestamp) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE p text := ${s}.datepart_name(part);
BEGIN
  IF d IS NULL THEN RETURN NULL; END IF;
  IF p = 'month' THEN RETURN to_char(d, 'FMMonth'); END IF;
  IF p = 'weekday' THEN RETURN to_char(d, 'FMDay'); END IF;
  RETURN ${s}.datepart(p, d)::text;
END $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datename(part text, d date) RETURNS text LANGUAGE sql IMMUTABLE AS $f$ SELECT ${s}.datename(part, d::timestamp) $f$`)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.datename(part text, d timestamptz) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT ${s}.datename(part, d::timestamp) $f$`)

  // getdate(): the statement's start, local time, milliseconds (datetime has no more)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.getdate() RETURNS timestamp LANGUAGE sql STABLE AS $f$ SELECT date_trunc('milliseconds', statement_timestamp()::timestamp) $f$`)

  // isnull(a, b)
  out.push(`CREATE OR REPLACE FUNCTION ${s}.isnull(value anycompatible, replacement anycompatible) RETURNS anycompatible LANGUAGE sql IMMUTABLE AS $f$ SELECT coalesce(value, replacement) $f$`)

  // len(s): characters, trailing spaces excluded
  out.push(`CREATE OR REPLACE FUNCTION ${s}.len(value text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT length(rtrim(value, ' ')) $f$`)

  // charindex(find, search [, start]): 1-based, 0 when absent, case-insensitive
  out.push(`CREATE OR REPLACE FUNCTION ${s}.charindex(find text, search text, start_location bigint DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE
    WHEN find IS NULL OR search IS NULL THEN NULL
    WHEN find = '' THEN 0
    ELSE (SELECT CASE WHEN pos = 0 THEN 0 ELSE pos + st - 1 END
          FROM (SELECT strpos(lower(substr(search, st)), lower(find)) AS pos, st
                FROM (SELECT greatest(coalesce(start_location, 1), 1)::integer AS st) a) b)
  END $f$`)
  return out
}
