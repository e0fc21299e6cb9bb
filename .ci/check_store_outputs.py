"""Reads a demo run's outputs back from object storage, the way a consumer would: pyarrow's own
S3 and Azure filesystems (not the CLI's client) open every manifest under the prefix and every
object each manifest names.

    check_store_outputs.py s3://demo-bucket/ci-...   # moto at $CE_TEST_S3_ENDPOINT
    check_store_outputs.py az://demo-container/ci-... # Azurite at $CE_TEST_AZURITE_ENDPOINT

For every output: its size and SHA-256 equal the manifest's; Parquet has the manifest's row count
(pq.read_table) and the declared types; CSV has that many records after the header (the csv
module, since quoted fields may hold newlines); NDJSON that many lines, each a JSON object; XLSX
(openpyxl) that many rows under the header of its sheets. The
prefix holds the manifests and their outputs and nothing else: no object is left under its
`.customer-export/` folder (staging, journals, backups, leases)."""
import csv
import hashlib
import io
import json
import os
import posixpath
import sys
import urllib.parse

import openpyxl
import pyarrow.fs as pafs
import pyarrow.parquet as pq

# Never ask a metadata service for credentials (there is none here; it would only add timeouts).
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

# Azurite's well-known development account (public, in Microsoft's documentation; also in
# .ci/emulators.sh and tests/common/stores.rs).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STATE_DIR = ".customer-export"
EXPECTED_TYPES = {"created_at": "timestamp[us, tz=UTC]", "vendor": "string", "customer_id": "string"}


def authority(var):
    """`host:port` of the endpoint URL in `var`."""
    endpoint = os.environ.get(var)
    if not endpoint:
        sys.exit(f"{var} is unset: eval \"$(.ci/emulators.sh start)\" first")
    parsed = urllib.parse.urlsplit(endpoint)
    assert parsed.scheme == "http" and parsed.netloc, (var, endpoint)
    return parsed.netloc


def filesystem(scheme):
    """pyarrow's filesystem for `scheme`, and the server's name."""
    if scheme == "s3":
        fs = pafs.S3FileSystem(
            endpoint_override=authority("CE_TEST_S3_ENDPOINT"),
            scheme="http",
            access_key="testing",
            secret_key="testing",
            region="us-east-1",
        )
        return fs, "S3 (moto)"
    if scheme == "az":
        host = authority("CE_TEST_AZURITE_ENDPOINT")
        # Without the dfs_* settings pyarrow asks <account>.dfs.core.windows.net whether the
        # account has a hierarchical namespace.
        fs = pafs.AzureFileSystem(
            account_name=AZURITE_ACCOUNT,
            account_key=AZURITE_KEY,
            blob_storage_authority=host,
            blob_storage_scheme="http",
            dfs_storage_authority=host,
            dfs_storage_scheme="http",
        )
        return fs, "Azure Blob (Azurite)"
    sys.exit(f"unsupported scheme {scheme!r}: s3:// or az://")


def check(url):
    parsed = urllib.parse.urlsplit(url)
    fs, server = filesystem(parsed.scheme)
    # pyarrow names an object `bucket/key` (`container/blob` on Azure).
    root = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")

    objects = {
        info.path: info.size
        for info in fs.get_file_info(pafs.FileSelector(root, recursive=True))
        if info.type == pafs.FileType.File
    }
    assert objects, f"{url}: no object under {root}"
    left = sorted(key for key in objects if key.startswith(f"{root}/{STATE_DIR}/"))
    assert not left, f"{url}: objects left under {STATE_DIR}/: {left}"

    manifests = sorted(key for key in objects if posixpath.basename(key) == "manifest.json")
    assert manifests, f"{url}: no manifest.json under the prefix; objects: {sorted(objects)}"

    named = set(manifests)
    listing = []
    parquet_files = 0
    for manifest_key in manifests:
        with fs.open_input_stream(manifest_key) as stream:
            manifest = json.loads(stream.read())
        assert manifest["status"] == "succeeded", (manifest_key, manifest["status"])
        assert manifest["outputs"], (manifest_key, "no outputs")
        folder = posixpath.dirname(manifest_key)
        listing.append((manifest_key, objects[manifest_key], None))
        for output in manifest["outputs"]:
            # Paths are relative to the manifest's folder.
            key = posixpath.normpath(posixpath.join(folder, output["path"]))
            assert key.startswith(f"{root}/"), (manifest_key, output["path"], "leaves the prefix")
            assert key in objects, (manifest_key, key, "named by the manifest but not in the store")
            assert key not in named, (manifest_key, key, "named twice")
            named.add(key)

            with fs.open_input_stream(key) as stream:
                data = stream.read()
            assert len(data) == objects[key] == output["bytes"], (
                key, len(data), objects[key], output["bytes"])
            digest = hashlib.sha256(data).hexdigest()
            assert digest == output["sha256"], (key, digest, output["sha256"])

            rows = output["rows"]
            if output["format"] == "parquet":
                # Read through the filesystem, as a consumer would, not from the bytes above.
                table = pq.read_table(key, filesystem=fs)
                assert table.num_rows == rows, (key, table.num_rows, rows)
                for column, type_name in EXPECTED_TYPES.items():
                    assert str(table.schema.field(column).type) == type_name, (
                        key, column, table.schema)
                parquet_files += 1
            elif output["format"] == "csv":
                records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
                assert records, (key, "no header")
                assert len(records) - 1 == rows, (key, len(records) - 1, rows)
                width = len(records[0])
                assert all(len(record) == width for record in records), (key, "ragged rows")
            elif output["format"] == "ndjson":
                lines = data.decode("utf-8").splitlines()
                assert len(lines) == rows, (key, len(lines), rows)
                for line in lines:
                    assert isinstance(json.loads(line), dict), (key, line[:80])
            elif output["format"] == "xlsx":
                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
                sheet_rows = sum(sheet.max_row - 1 for sheet in book.worksheets)
                assert sheet_rows == rows, (key, sheet_rows, rows)
            else:
                raise AssertionError((key, "unknown format", output["format"]))
            listing.append((key, len(data), rows))

    stray = sorted(set(objects) - named)
    assert not stray, f"{url}: objects no manifest names: {stray}"
    assert parquet_files > 0, f"{url}: no Parquet output"

    print(f"== {url}")
    width = max(len(key) for key, _, _ in listing)
    for key, size, rows in listing:
        print(f"  {key:<{width}}  {size:>9} B  {'' if rows is None else f'{rows:>6} rows'}")
    print(f"{server}: {len(objects)} objects, every Parquet read back by pyarrow with the "
          "manifest's counts, sizes and SHA-256s match, nothing left under "
          f"{STATE_DIR}/")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        check(arg)
