#!/usr/bin/env bash
# The transform chain's cost: a 1M-row SQLite → SQLite copy with each config in bench/transforms/, three times
# each (BENCH_RUNS), wall and CPU seconds and peak RSS from /usr/bin/time, then the medians.
# Runs the built CLI (`npm run build` first), or the one BENCH_CLI names.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-1000000}
runs=${BENCH_RUNS:-3}
cli=${BENCH_CLI:-dist/cli/main.js}
[ -f "$cli" ] || { echo "$cli is missing: run \`npm run build\` first" >&2; exit 2; }
configs=${BENCH_CONFIGS:-empty collapse fk no-dedupe seed-transforms seed-spilled}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node bench/make-people.mjs "$dir/people.db" "$rows"
# the configs run from the temporary directory: inside this checkout, Node would resolve their
# `import … from 'dbferry'` to the checkout's own dist/ rather than to the CLI being measured
cp bench/transforms/*.config.mjs "$dir/"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  for c in $configs; do
    rm -f "$dir"/out.db*
    /usr/bin/time -o "$dir/time" -f "%e %U %S %M" \
      node "$cli" copy "sqlite:$dir/people.db" "sqlite:$dir/out.db" --config "$dir/$c.config.mjs" --no-journal --quiet >/dev/null
    read -r wall user sys rss <"$dir/time"
    echo "$c run $run: $wall s wall, $user s user, $sys s sys, $((rss / 1024)) MB peak RSS"
    echo "$c $wall $user $sys $rss" >>"$dir/results"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "medians of $runs runs ($rows rows):"
printf '%-16s %8s %8s %6s %10s\n' config wall cpu ratio 'peak RSS'
base=""
for c in $configs; do
  med() { grep "^$c " "$dir/results" | awk "{ print $1 }" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
  wall=$(med '$2')
  cpu=$(med '$3 + $4')
  rss=$(med '$5')
  [ -z "$base" ] && base=$wall
  printf '%-16s %7.2fs %7.2fs %5.2f× %7d MB\n' "$c" "$wall" "$cpu" "$(echo "$wall / $base" | bc -l)" "$((${rss%.*} / 1024))"
done
