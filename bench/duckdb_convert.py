"""DuckDB peer for the conversion limit: NDJSON on disk → Parquet, in one statement.

Usage: duckdb_convert.py IN.ndjson OUT.parquet
`COPY (SELECT * FROM read_json_auto(IN)) TO OUT (FORMAT parquet)` with DuckDB's defaults (every
core, schema inferred from the records, nested objects and arrays as STRUCT and LIST columns,
Snappy). No fetching: the records are already on disk, so this is the least a converter of these
records pays, against which customer-export's whole export (fetching included) is set.
"""

import sys

import duckdb


def quoted(path):
    """A SQL string literal of `path`."""
    return "'" + path.replace("'", "''") + "'"


src, dst = sys.argv[1:3]
duckdb.connect().execute(
    f"COPY (SELECT * FROM read_json_auto({quoted(src)})) TO {quoted(dst)} (FORMAT parquet)")
