"""Issue 12: `fields: all` files of every vendor, named in snake_case, union by name in DuckDB and
pyarrow — no two columns that differ only by case, dates read as dates."""
import pathlib
import sys

import duckdb
import pyarrow.dataset as ds

root = pathlib.Path(sys.argv[1])
files = sorted(root.rglob("*.parquet"))
assert len(files) == 5, files
for f in files:
    names = ds.dataset(f).schema.names
    lower = [n.lower() for n in names]
    assert len(set(lower)) == len(lower), (f, names)
    assert all(n == n.lower() for n in names), (f, names)

con = duckdb.connect()
glob = str(root / "**" / "*.parquet")
total, vendors = con.execute(
    f"select count(*), count(distinct filename) from read_parquet('{glob}', union_by_name=true, filename=true)"
).fetchone()
rows = sum(ds.dataset(f).count_rows() for f in files)
assert total == rows and vendors == 5, (total, rows, vendors)
kind, = con.execute(
    f"select typeof(coterm_date) from read_parquet('{glob}', union_by_name=true) where coterm_date is not null limit 1"
).fetchone()
assert kind == "DATE", kind
print(f"DuckDB unions {total} rows of 5 vendors' snake_case files by name; coterm_date reads as {kind}")
