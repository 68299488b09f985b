#!/usr/bin/env bash
# Runs the trace-store tests against a real PostgreSQL server: creates a throwaway cluster in a temp
# directory, starts it on 127.0.0.1 at a free port, creates a database, exports SY_TEST_PG_URL, runs
# test_traces, then stops the cluster and removes the directory (also on failure or interrupt).
# Installs nothing: scripts/setup.sh provides the `postgresql` package.
# Usage: scripts/test-postgres.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/release}
test_bin="$build_dir/tests/test_traces"
if [[ ! -x "$test_bin" ]]; then
  echo "test-postgres: $test_bin not built (cmake --build $build_dir --target test_traces)" >&2
  exit 1
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  echo "test-postgres: PostgreSQL server binaries not found (run scripts/setup.sh)" >&2
  exit 1
fi

# PostgreSQL refuses to run as root: run the server as the `postgres` OS user then.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  as_pg=(runuser -u postgres --)
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
data="$tmp/data"
cleanup() {
  if [[ -f "$data/postmaster.pid" ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir "$data"
if [[ ${#as_pg[@]} -gt 0 ]]; then chown postgres "$tmp" "$data"; fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$data" -U postgres -A trust --no-sync >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }

# A free port: pick one at random and let the server tell us if it is taken (a few tries).
port=""
for _ in 1 2 3 4 5 6 7 8; do
  try=$((20000 + RANDOM % 40000))
  if "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $try -k $tmp -c fsync=off" start >/dev/null 2>&1; then
    port=$try
    break
  fi
done
if [[ -z "$port" ]]; then
  echo "test-postgres: could not start the server:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres sy_test
export SY_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/sy_test"
echo "test-postgres: server on 127.0.0.1:$port" >&2
"$test_bin" --gtest_brief=1
