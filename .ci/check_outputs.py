"""Reads the demo run's outputs with real consumers: pyarrow and DuckDB must open every Parquet
file with the declared types, and the CSV and NDJSON must agree on row counts with the manifest."""
import json
import pathlib
import sys

import duckdb
import pyarrow.parquet as pq

root = pathlib.Path(sys.argv[1])
manifests = list(root.rglob("manifest.json"))
assert len(manifests) == 1, f"expected one manifest under {root}, found {manifests}"
manifest = json.loads(manifests[0].read_text())
assert manifest["status"] == "succeeded", manifest["status"]

expected_types = {"created_at": "timestamp[us, tz=UTC]", "vendor": "string", "customer_id": "string"}
parquet_rows = 0
for output in manifest["outputs"]:
    # Paths are relative to the manifest's folder.
    path = manifests[0].parent / output["path"]
    assert path.exists(), path
    if output["format"] == "parquet":
        table = pq.read_table(path)
        assert table.num_rows == output["rows"], (path, table.num_rows, output["rows"])
        for column, type_name in expected_types.items():
            assert str(table.schema.field(column).type) == type_name, (path, column, table.schema)
        con = duckdb.connect()
        count, = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
        assert count == output["rows"], (path, count)
        kind = con.execute(f"select typeof(created_at) from read_parquet('{path}') limit 1").fetchall()
        assert not kind or kind[0][0] == "TIMESTAMP WITH TIME ZONE", kind
        parquet_rows += count
    elif output["format"] == "csv":
        con = duckdb.connect()
        count, = con.execute(f"select count(*) from read_csv('{path}', header=true)").fetchone()
        assert count == output["rows"], (path, count, output["rows"])
    elif output["format"] == "ndjson":
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == output["rows"], (path, len(lines))
        for line in lines:
            json.loads(line)

assert parquet_rows > 0
print(f"pyarrow and DuckDB read {parquet_rows} Parquet rows; CSV and NDJSON agree with the manifest")
