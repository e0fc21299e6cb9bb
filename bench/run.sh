#!/usr/bin/env bash
# The benchmarks of issues 7 and 17 in one command: builds customer-export and the raw-fetch floor,
# installs the peers (dlt, Airbyte's declarative source, DuckDB) into bench/.venv and moto
# (.ci/emulators.sh install) when a section writes to S3, then runs bench/bench.py, which starts the
# sandbox and a moto server, runs every tool, and prints the tables. Options: see `bench/run.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building customer-export (release) and the floor" >&2
cargo build --release --quiet
CARGO_TARGET_DIR=target/bench-floor cargo build --release --quiet --manifest-path bench/floor/Cargo.toml

# Pinned so that two runs of the benchmark measure the same peers.
PEERS=("dlt[parquet]==1.31.0" "airbyte-cdk==7.39.1" "duckdb==2.0.1" "pyarrow")
# The stamp names the checkout too: a venv's scripts carry its absolute path in their shebang, so a
# venv copied or moved from elsewhere is rebuilt rather than failing with "No such file".
STAMP="bench/.venv/.installed-$(printf '%s ' "${PEERS[@]}" "$PWD" | sha256sum | cut -c1-12)"
if [[ ! -f "$STAMP" ]]; then
  echo "== installing the peers into bench/.venv (once)" >&2
  python3 -m venv --clear bench/.venv
  bench/.venv/bin/pip install --quiet --upgrade pip
  bench/.venv/bin/pip install --quiet "${PEERS[@]}"
  touch "$STAMP"
fi

# moto (S3) for the "customer-export → S3 (moto)" rows of main and memory, into .ci/.emulators (once;
# the same pinned install the object-storage tests use). bench.py starts its own server on a free port.
# Not needed with --no-s3, nor when --sections names neither main nor memory.
needs_s3() {
  local sections="main,memory" prev=""
  for arg in "$@"; do
    case "$arg" in
      --no-s3) return 1 ;;
      --sections=*) sections="${arg#--sections=}" ;;
      --help|-h) return 1 ;;
    esac
    if [[ "$prev" == "--sections" ]]; then sections="$arg"; fi
    prev="$arg"
  done
  [[ ",$sections," == *",main,"* || ",$sections," == *",memory,"* ]]
}
if needs_s3 "$@"; then
  echo "== making sure moto is installed (.ci/emulators.sh install)" >&2
  .ci/emulators.sh install >&2
fi

mkdir -p bench/work
exec bench/.venv/bin/python bench/bench.py "$@"
