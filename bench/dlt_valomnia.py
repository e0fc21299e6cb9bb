"""dlt peer: rest_api source (offset paginator, total from `paging.total`) → filesystem, Parquet.

Usage: dlt_valomnia.py BASE_URL TOKEN PAGE_SIZE OUT_DIR WORK_DIR
Arrays and nested objects are kept as JSON columns (max_table_nesting=0), the closest dlt has to
customer-export's `arrays: json`, and the cheapest for dlt (no child tables).
"""

import os
import sys

base_url, token, page_size, out_dir, work_dir = sys.argv[1:6]
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DLT_DATA_DIR", os.path.join(work_dir, "dlt-data"))

import dlt  # noqa: E402
from dlt.sources.rest_api import rest_api_source  # noqa: E402

source = rest_api_source(
    {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": token},
        },
        "resource_defaults": {"write_disposition": "replace"},
        "resources": [
            {
                "name": "customers",
                "max_table_nesting": 0,
                "endpoint": {
                    "path": "api/v1.0/customers",
                    "data_selector": "data",
                    "paginator": {
                        "type": "offset",
                        "limit": int(page_size),
                        "limit_param": "max",
                        "offset_param": "offset",
                        "total_path": "paging.total",
                    },
                },
            }
        ],
    }
)
pipeline = dlt.pipeline(
    pipeline_name="bench_valomnia",
    pipelines_dir=os.path.join(work_dir, "dlt-pipelines"),
    destination=dlt.destinations.filesystem(bucket_url=os.path.abspath(out_dir)),
    dataset_name="valomnia",
)
info = pipeline.run(source, loader_file_format="parquet")
info.raise_on_failed_jobs()
