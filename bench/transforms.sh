#!/usr/bin/env bash
# The transform chain's cost: a 1M-row SQLite → SQLite copy with each config in bench/transforms/, three times
# each, wall and user seconds and peak RSS from /usr/bin/time. Needs `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node bench/make-people.mjs "$dir/people.db" "$rows"
for run in 1 2 3; do
  for c in empty collapse fk no-dedupe seed-transforms; do
    rm -f "$dir"/out.db*
    /usr/bin/time -f "$c run $run: %e s wall, %U s user, %M kB peak RSS" \
      node dist/cli/main.js copy "sqlite:$dir/people.db" "sqlite:$dir/out.db" --config "bench/transforms/$c.config.mjs" --no-journal --quiet >/dev/null
  done
done
