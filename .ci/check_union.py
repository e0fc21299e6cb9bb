"""Issues 12 and 13: `fields: all` files of every vendor (the five built in and the two shipped
definitions), named in snake_case, union by name in DuckDB and pyarrow — no two columns that
differ only by case, dates read as dates, Pax8's `-0600` timestamps as instants."""
import pathlib
import sys

import duckdb
import pyarrow.dataset as ds

root = pathlib.Path(sys.argv[1])
files = sorted(root.rglob("*.parquet"))
VENDORS = 7
assert len(files) == VENDORS, files
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
assert total == rows and vendors == VENDORS, (total, rows, vendors)
kind, = con.execute(
    f"select typeof(coterm_date) from read_parquet('{glob}', union_by_name=true) where coterm_date is not null limit 1"
).fetchone()
assert kind == "DATE", kind
updated, = con.execute(
    f"select typeof(updated_date) from read_parquet('{glob}', union_by_name=true) where updated_date is not null limit 1"
).fetchone()
assert updated.startswith("TIMESTAMP"), updated
print(f"DuckDB unions {total} rows of {VENDORS} vendors' snake_case files by name; coterm_date reads as {kind}, updated_date as {updated}")
