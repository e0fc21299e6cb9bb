"""Reads a run's outputs with real consumers: pyarrow and DuckDB must open every Parquet file with
the declared types, the CSV and NDJSON must agree on row counts with the manifest, and openpyxl
must read every XLSX file as a spreadsheet user would get it.

    check_outputs.py OUTPUT_DIR [SEEN ...]

XLSX: every sheet has the header (bold, frozen at A2) and an autofilter over its rows; every cell
has its column's type — text as text (never a formula), numbers, booleans, dates and date-times
shown in UTC; the rows add up to the manifest's; and where the run also wrote a CSV of the same
columns and rows, every cell says what the CSV says (text verbatim, the CSV's formula-defusing
`'` aside). SEEN names what the XLSX files must show at least once, so a check with nothing to
check fails: number, boolean, date, datetime, leading-zero (text such as 06000), plus-text
(+100003), formula-text (=…), non-ascii, multi-line.
"""
import csv
import datetime
import json
import pathlib
import re
import sys

import duckdb
import openpyxl
import pyarrow.parquet as pq
from openpyxl.utils import get_column_letter

TIMESTAMP_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
DATE_FORMAT = "yyyy-mm-dd"
SEEN_KINDS = {"number", "boolean", "date", "datetime", "leading-zero", "plus-text",
              "formula-text", "non-ascii", "multi-line"}

root = pathlib.Path(sys.argv[1])
must_see = set(sys.argv[2:])
assert must_see <= SEEN_KINDS, f"unknown SEEN: {must_see - SEEN_KINDS}"
manifests = list(root.rglob("manifest.json"))
assert len(manifests) == 1, f"expected one manifest under {root}, found {manifests}"
manifest = json.loads(manifests[0].read_text())
assert manifest["status"] == "succeeded", manifest["status"]


def seen_in_text(value, seen):
    if re.fullmatch(r"0[0-9]+", value):
        seen.add("leading-zero")
    if value.startswith("+"):
        seen.add("plus-text")
    if value.startswith("="):
        seen.add("formula-text")
    if not value.isascii():
        seen.add("non-ascii")
    if "\n" in value:
        seen.add("multi-line")


def check_cell(cell, column_type, where, seen):
    """A cell holds its column's type; text is never a formula."""
    assert cell.data_type != "f", (where, "a formula", cell.value)
    value = cell.value
    if value is None:
        return
    if column_type == "utf8":
        assert cell.data_type == "s" and isinstance(value, str), (where, value)
        seen_in_text(value, seen)
    elif column_type == "int64":
        # More than 15 digits is text: Excel would round it.
        ok = (cell.data_type == "n" and isinstance(value, int)) or (
            cell.data_type == "s" and re.fullmatch(r"-?[0-9]{16,}", value))
        assert ok, (where, value, cell.data_type)
        seen.add("number")
    elif column_type == "float64":
        assert cell.data_type == "n" and isinstance(value, (int, float)), (where, value)
        seen.add("number")
    elif column_type == "boolean":
        assert cell.data_type == "b" and isinstance(value, bool), (where, value)
        seen.add("boolean")
    elif column_type == "timestamp":
        assert isinstance(value, datetime.datetime), (where, value)
        assert cell.number_format == TIMESTAMP_FORMAT, (where, cell.number_format)
        seen.add("datetime")
    elif column_type == "date":
        assert isinstance(value, datetime.datetime) and value.time() == datetime.time(), (where, value)
        assert cell.number_format == DATE_FORMAT, (where, cell.number_format)
        seen.add("date")
    else:
        raise AssertionError((where, "unknown column type", column_type))


def check_sheet(sheet, names, types, where, seen):
    """One worksheet's layout and cells; returns its data rows."""
    assert sheet.freeze_panes == "A2", (where, sheet.freeze_panes)
    last = get_column_letter(len(names))
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", (where, sheet.auto_filter.ref)
    header = next(sheet.iter_rows(max_row=1))
    assert [c.value for c in header] == names, (where, [c.value for c in header])
    assert all(c.font.b for c in header), (where, "the header is not bold")
    rows = []
    for row in sheet.iter_rows(min_row=2):
        for cell, column_type in zip(row, types):
            check_cell(cell, column_type, f"{where}!{cell.coordinate}", seen)
        rows.append([cell.value for cell in row])
    return rows


def same_as_csv(value, text, column_type):
    """Whether an XLSX cell's value says what the CSV's field says."""
    if value is None:
        return text == ""
    if column_type == "utf8":
        return text in (value, "'" + value)
    if column_type == "boolean":
        return text == ("true" if value else "false")
    if column_type == "timestamp":
        instant = datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
        return abs(instant - value) < datetime.timedelta(milliseconds=1)
    if column_type == "date":
        return text == value.date().isoformat()
    if isinstance(value, str):  # an integer too long for a number
        return text == value
    return float(text) == value


def check_xlsx(path, output, csv_paths, seen):
    names = [c["name"] for c in output["schema"]]
    types = [c["type"] for c in output["schema"]]
    book = openpyxl.load_workbook(path)
    base = book.worksheets[0].title
    rows = []
    for number, sheet in enumerate(book.worksheets, start=1):
        assert sheet.title == (base if number == 1 else f"{base} ({number})"), (path, sheet.title)
        rows += check_sheet(sheet, names, types, f"{path.name}:{sheet.title}", seen)
    assert len(rows) == output["rows"], (path, len(rows), output["rows"])
    twin = csv_paths.get((tuple(names), output["rows"]))
    if twin is not None:
        with open(twin, newline="", encoding="utf-8") as f:
            records = list(csv.reader(f))[1:]
        for i, (row, record) in enumerate(zip(rows, records), start=2):
            for value, text, column_type in zip(row, record, types):
                assert same_as_csv(value, text, column_type), (path, i, value, text)
    return len(rows)


expected_types = {"created_at": "timestamp[us, tz=UTC]", "vendor": "string", "customer_id": "string"}
rows_by_format = {}
seen = set()
csv_paths = {}
xlsx_outputs = []
for output in manifest["outputs"]:
    # Paths are relative to the manifest's folder.
    path = manifests[0].parent / output["path"]
    assert path.exists(), path
    rows_by_format[output["format"]] = rows_by_format.get(output["format"], 0) + output["rows"]
    if output["format"] == "parquet":
        table = pq.read_table(path)
        assert table.num_rows == output["rows"], (path, table.num_rows, output["rows"])
        con = duckdb.connect()
        count, = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
        assert count == output["rows"], (path, count)
        kind = con.execute(f"select typeof(created_at) from read_parquet('{path}') limit 1").fetchall()
        assert not kind or kind[0][0] == "TIMESTAMP WITH TIME ZONE", kind
        for column, type_name in expected_types.items():
            assert str(table.schema.field(column).type) == type_name, (path, column, table.schema)
    elif output["format"] == "csv":
        con = duckdb.connect()
        count, = con.execute(f"select count(*) from read_csv('{path}', header=true)").fetchone()
        assert count == output["rows"], (path, count, output["rows"])
        names = tuple(c["name"] for c in output["schema"])
        csv_paths[(names, output["rows"])] = path
    elif output["format"] == "ndjson":
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == output["rows"], (path, len(lines))
        for line in lines:
            json.loads(line)
    elif output["format"] == "xlsx":
        xlsx_outputs.append((path, output))
    else:
        raise AssertionError((path, "unknown format", output["format"]))

# After the CSVs, so each XLSX finds its twin.
for path, output in xlsx_outputs:
    check_xlsx(path, output, csv_paths, seen)

empty = [name for name, rows in rows_by_format.items() if rows == 0]
assert rows_by_format and not empty, f"no rows in the {empty or 'any'} outputs"
missing = must_see - seen
assert not missing, f"the XLSX outputs show no {sorted(missing)} (seen: {sorted(seen)})"
print(f"pyarrow and DuckDB read {rows_by_format.get('parquet', 0)} Parquet rows, openpyxl "
      f"{rows_by_format.get('xlsx', 0)} XLSX rows (seen: {', '.join(sorted(seen)) or 'nothing'}); "
      "CSV and NDJSON agree with the manifest")
