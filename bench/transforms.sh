#!/usr/bin/env bash
# The transform chain's cost: a 1M-row copy from SQLite with each config in bench/transforms/, three times
# each (BENCH_RUNS), wall and CPU seconds and peak RSS from /usr/bin/time, then the medians.
# Runs the built CLI (`npm run build` first), or the one BENCH_CLI names.
# BENCH_TARGET: sqlite (the default: SQLite → SQLite, the fastest copy, so the chain's largest share) or
# mysql (SQLite → MariaDB/MySQL, the seed's own migration; a fresh database per run on DBFERRY_MYSQL_URL,
# default mysql://root@127.0.0.1:3306/test, dropped afterwards). CPU and RSS are dbferry's process only.
# BENCH_JOURNAL=1 keeps the journal (a fresh file per run; its size is printed), as the CLI does by default;
# otherwise the runs use --no-journal.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-1000000}
runs=${BENCH_RUNS:-3}
cli=${BENCH_CLI:-dist/cli/main.js}
[ -f "$cli" ] || { echo "$cli is missing: run \`npm run build\` first" >&2; exit 2; }
configs=${BENCH_CONFIGS:-empty collapse fk no-dedupe seed-transforms seed-spilled}
target=${BENCH_TARGET:-sqlite}
mysql_url=${DBFERRY_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
dir=$(mktemp -d)
db=""
mysql_admin() {
  # host, port and user from the URL; no password (the local test server's)
  local rest=${mysql_url#mysql://} user host port
  user=${rest%%@*}; rest=${rest#*@}; rest=${rest%%/*}
  host=${rest%%:*}; port=${rest#*:}; [ "$port" = "$rest" ] && port=3306
  mysql -h "$host" -P "$port" -u "$user" -e "$1"
}
cleanup() {
  [ -n "$db" ] && mysql_admin "DROP DATABASE IF EXISTS \`$db\`"
  rm -rf "$dir"
}
trap cleanup EXIT
case $target in
  sqlite | mysql) ;;
  *) echo "BENCH_TARGET is sqlite or mysql, not $target" >&2; exit 2 ;;
esac
node bench/make-people.mjs "$dir/people.db" "$rows"
# the configs run from the temporary directory: inside this checkout, Node would resolve their
# `import … from 'dbferry'` to the checkout's own dist/ rather than to the CLI being measured
cp bench/transforms/*.config.mjs "$dir/"
echo "SQLite → $target; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# BENCH_CLI_OTHER: another build (e.g. of an earlier commit) run right after the measured one on every config
# but the first, as `config@other`, so the two are compared under the same conditions, run by run
first=${configs%% *}
labels=""
for c in $configs; do
  labels="$labels $c"
  [ -n "${BENCH_CLI_OTHER:-}" ] && [ "$c" != "$first" ] && labels="$labels $c@other"
done
for run in $(seq "$runs"); do
  for label in $labels; do
    c=${label%@other}
    run_cli=$cli
    [ "$label" != "$c" ] && run_cli=$BENCH_CLI_OTHER
    rm -f "$dir"/out.db*
    out="sqlite:$dir/out.db"
    if [ "$target" = mysql ]; then
      db="dbferry_bench_$$_${run}_$c"
      db=${db//-/_}
      mysql_admin "DROP DATABASE IF EXISTS \`$db\`; CREATE DATABASE \`$db\` CHARACTER SET utf8mb4"
      out="${mysql_url%/*}/$db"
    fi
    journal=(--no-journal)
    if [ "${BENCH_JOURNAL:-}" = 1 ]; then
      rm -f "$dir"/journal.sqlite*
      journal=(--journal "$dir/journal.sqlite")
    fi
    /usr/bin/time -o "$dir/time" -f "%e %U %S %M" \
      node "$run_cli" copy "sqlite:$dir/people.db" "$out" --config "$dir/$c.config.mjs" "${journal[@]}" --quiet >/dev/null
    [ "${BENCH_JOURNAL:-}" = 1 ] && echo "$label run $run: journal $(($(stat -c %s "$dir/journal.sqlite") / 1048576)) MB"
    if [ "$target" = mysql ]; then
      mysql_admin "DROP DATABASE \`$db\`"
      db=""
    fi
    read -r wall user sys rss <"$dir/time"
    echo "$label run $run: $wall s wall, $user s user, $sys s sys, $((rss / 1024)) MB peak RSS"
    echo "$label $wall $user $sys $rss $run" >>"$dir/results"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# ratio: of the medians; paired: the median of each run's ratio to the first config's wall time in that same
# run, which a slow spell of this shared machine moves less (it tends to slow a run's configs alike)
echo "medians of $runs runs ($rows rows):"
printf '%-22s %8s %8s %6s %7s %10s\n' config wall cpu ratio paired 'peak RSS'
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
base=""
for c in $labels; do
  med() { grep "^$c " "$dir/results" | awk "{ print $1 }" | median; }
  wall=$(med '$2')
  cpu=$(med '$3 + $4')
  rss=$(med '$5')
  paired=$(awk -v c="$c" -v f="$first" '$1 == f { b[$6] = $2 } $1 == c { w[$6] = $2 } END { for (r in w) print w[r] / b[r] }' "$dir/results" | median)
  [ -z "$base" ] && base=$wall
  printf '%-22s %7.2fs %7.2fs %5.2f× %6.2f× %7d MB\n' "$c" "$wall" "$cpu" "$(echo "$wall / $base" | bc -l)" "$paired" "$((${rss%.*} / 1024))"
done
