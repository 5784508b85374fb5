#!/usr/bin/env bash
# Usage: docs/measurements/pg-id-types/run.sh postgres://user@host:port/database
# Builds the two tables (setup.sql), then times keyed lookups and a 10,000-row scan with a join
# with pgbench (4 clients, 8 s, two runs each). A raw-statement measurement of the storage choice,
# not Moth end to end: the benchmark (server/examples/bench.rs) is that.
set -euo pipefail
url="$1"
here="$(cd "$(dirname "$0")" && pwd)"
pgbench="$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)"
psql "$url" -q -f "$here/setup.sql"
for script in lookup_uuid lookup_text lookup_uuid lookup_text scan_uuid scan_text scan_uuid scan_text; do
  printf '%-12s ' "$script"
  "$pgbench" -n -T 8 -c 4 -j 2 -f "$here/$script.sql" "$url" 2>&1 | grep -E '^tps' | tr '\n' ' '
  echo
done
