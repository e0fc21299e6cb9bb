"""Every DOUBLE column chunk holding values carries min/max statistics that pyarrow (Arrow C++)
reads, so lake engines can skip row groups on float filters (issue 11, item 11)."""
import pathlib
import sys

import pyarrow.parquet as pq

checked = 0
for path in pathlib.Path(sys.argv[1]).rglob("*.parquet"):
    metadata = pq.ParquetFile(path).metadata
    for r in range(metadata.num_row_groups):
        group = metadata.row_group(r)
        for i in range(group.num_columns):
            column = group.column(i)
            stats = column.statistics
            if column.physical_type != "DOUBLE" or stats is None or stats.null_count == column.num_values:
                continue
            assert stats.has_min_max, (path, column.path_in_schema)
            checked += 1
assert checked > 0, "no float column with values was written"
print(f"pyarrow reads the min/max of {checked} float column chunks")
