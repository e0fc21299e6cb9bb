"""The benchmarks of issues 7 and 17: customer-export against dlt, Airbyte, DuckDB and the raw-fetch
floor.

Run through `bench/run.sh` (which builds and installs what this needs). Every tool runs as a child
process against the same sandbox (Valomnia: static bearer token, `max`/`offset` paging); wall time
and peak RSS come from GNU time wrapped around that child, row counts from each tool's own output.

Sections (`--sections`, all by default, in this order):
  main    the comparison table: the floor, customer-export Parquet (and S3, CSV), dlt and Airbyte at
          customer-export's page size (100) and at their best (1000), and the targets met or missed
  slow    a slow vendor (sandbox `--list-delay-ms 150`), page size 100 for every tool
  five    the demo's five vendors against one sandbox process: each alone, all five one at a time
          (`sources_at_once: 1`) and all at once; then all five at 200k customers each (peak RSS)
  memory  peak RSS at 10k, 100k, 1M customers
  rate    adherence to a server-side rate limit
  diff    `customer-export diff` of two 1M-row exports
  duckdb  the conversion limit: DuckDB's NDJSON → Parquet of the same records, from disk
Nothing here is a test: no timing is asserted.

The S3 rows (`customer-export → S3 (moto)`, in `main` and `memory`; `--no-s3` leaves them out) write
the same export to `s3://bench-bucket/<prefix>` on a moto server this script starts on a free port
of its own (`.ci/emulators.sh install` puts moto in `.ci/.emulators/venv`) and stops at the end; the
row count is read back from the store: the manifest's, checked against the Parquet footer.

`CUSTOMER_EXPORT_BIN` overrides the binary measured (default: this checkout's
`target/release/customer-export`, which `run.sh` builds).
"""
import argparse
import csv
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
EXE = Path(os.environ.get("CUSTOMER_EXPORT_BIN") or ROOT / "target" / "release" / "customer-export")
FLOOR = ROOT / "target" / "bench-floor" / "release" / "floor"
VENV_BIN = Path(sys.executable).parent
TOKEN = "sandbox-valomnia-token"
# Where `.ci/emulators.sh install` puts moto (EMU_DIR moves it, as for that script).
MOTO_SERVER = Path(os.environ.get("EMU_DIR") or ROOT / ".ci" / ".emulators") / "venv" / "bin" / "moto_server"
BUCKET = "bench-bucket"
S3_NAME = "customer-export → S3 (moto)"
CE_NAME = "customer-export parquet"
SECTIONS = ["main", "slow", "five", "memory", "rate", "diff", "duckdb"]
# The targets.
PEER_SPEEDUP = 20       # customer-export Parquet at least 20× faster than each peer at the same page size
FLOOR_RATIO = 1.5       # and at most 1.5× the raw-fetch floor
RSS_MB = 64             # peak RSS, at any size
RSS_GROWTH = 1.3        # peak RSS growth from 10k to 1M customers
FIVE_RATIO = 1.15       # five vendors at once ÷ the slowest vendor alone

csv.field_size_limit(sys.maxsize)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Processes


class Measured:
    def __init__(self, wall, rss_kb, code, stdout=""):
        self.wall = wall
        self.rss_mb = rss_kb / 1024.0
        self.code = code
        self.stdout = stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(cmd, stdout_path=None, env=None, cwd=None):
    """Runs `cmd`; wall seconds and peak RSS of the tool (and of the children it waited for).

    The RSS comes from GNU time, not from `wait4` here: a child of this Python process inherits
    its high-water mark (Linux keeps it across exec, and subprocess spawns with vfork), so every
    tool would seem to be at least as large as this script with pyarrow loaded.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    stdout_path = stdout_path or WORK / "last.stdout"
    stderr_path = WORK / "last.stderr"
    rss_path = WORK / "last.rss"
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_path] + list(cmd)
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.perf_counter()
        code = subprocess.call([str(c) for c in wrapped], stdout=out, stderr=err, env=env, cwd=cwd)
        wall = time.perf_counter() - started
    if code != 0:
        log(f"FAILED ({code}): {' '.join(map(str, cmd))}")
        log(Path(stderr_path).read_text(errors="replace")[-4000:])
        raise SystemExit(1)
    rss_kb = int(Path(rss_path).read_text().split()[-1])
    text = Path(stdout_path).read_text(errors="replace") if stdout_path == WORK / "last.stdout" else ""
    return Measured(wall, rss_kb, code, text)


class Sandbox:
    """`customer-export sandbox` in its own process (its CPU shares the cores; its RSS is not the
    tool's). Valomnia serves `customers` and the other vendors 10, unless `every_vendor`: then every
    vendor serves `customers` (the five-vendor scenario). `list_delay_ms` makes every list response
    that late (a slow vendor)."""

    def __init__(self, customers, rate_limit=None, drift=None, list_delay_ms=None, every_vendor=False):
        self.port = free_port()
        cmd = [EXE, "sandbox", "--port", str(self.port), "--seed", "42"]
        if every_vendor:
            cmd += ["--customers", str(customers)]
        else:
            cmd += ["--customers", "10", "--vendor-customers", f"valomnia={customers}"]
        if rate_limit:
            cmd += ["--rate-limit", str(rate_limit)]
        if drift is not None:
            cmd += ["--drift", str(drift)]
        if list_delay_ms:
            cmd += ["--list-delay-ms", str(list_delay_ms)]
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"the sandbox did not start: {line!r}")
        self.host = f"http://127.0.0.1:{self.port}"
        self.base = f"{self.host}/valomnia"
        self.customers = customers

    def stats(self):
        with urllib.request.urlopen(f"{self.host}/_sandbox/stats") as r:
            return json.load(r)["vendors"]["valomnia"]

    def close(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Moto:
    """moto's S3 server (`moto_server`) in its own process on a free port, with the bucket
    `bench-bucket`: the S3 rows' store. Started and stopped here, so the bench never depends on a
    server left running (nor touches one `.ci/emulators.sh start` left: the port is its own). Its RSS
    and CPU are not the tool's; it shares the two cores, like the sandbox. moto checks no
    signatures; it refuses an unsigned read of a private object, so this script reads back with
    pyarrow's S3 client."""

    def __init__(self):
        if not MOTO_SERVER.exists():
            raise SystemExit(f"{MOTO_SERVER} is missing: run bench/run.sh, which runs "
                             "`.ci/emulators.sh install` (or pass --no-s3)")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = WORK / "moto.log"
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                                         stdout=log_file, stderr=subprocess.STDOUT)
        try:
            self._wait()
            # Creating the bucket also loads moto's S3 backend, which it does on the first request.
            self.request("PUT", f"/{BUCKET}")
        except BaseException:
            self.close()
            raise
        self.seq = 0
        self._fs = None

    def _wait(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"moto_server exited ({self.proc.returncode}):\n"
                                 + self.log_path.read_text(errors="replace")[-4000:])
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"moto_server did not answer at {self.endpoint} within 60 s")

    def request(self, method, path):
        req = urllib.request.Request(self.endpoint + path, method=method)
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read()

    def fs(self):
        """pyarrow's S3 client on moto, for reading back: moto refuses an unsigned GET of an object
        that is not public (an unsigned PUT of the bucket it accepts)."""
        if self._fs is None:
            import pyarrow.fs as pafs

            self._fs = pafs.S3FileSystem(access_key="testing", secret_key="testing", region="us-east-1",
                                         endpoint_override=self.endpoint, allow_bucket_creation=False)
        return self._fs

    def get(self, key):
        with self.fs().open_input_stream(f"{BUCKET}/{key}") as f:
            return f.read()

    def size(self, key):
        return self.fs().get_file_info(f"{BUCKET}/{key}").size

    def keys(self, prefix):
        """Every object under the folder `prefix`."""
        import pyarrow.fs as pafs

        found = self.fs().get_file_info(pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True,
                                                         allow_not_found=True))
        return [i.path for i in found if i.type == pafs.FileType.File]

    def parquet_rows(self, key):
        """Rows in a Parquet object's footer (pyarrow reads the footer by ranged GETs)."""
        import pyarrow.parquet as pq

        with self.fs().open_input_file(f"{BUCKET}/{key}") as f:
            return pq.ParquetFile(f).metadata.num_rows

    def delete_prefix(self, prefix):
        """Frees moto's memory of a run's objects (it holds every object in its own process)."""
        self.fs().delete_dir_contents(f"{BUCKET}/{prefix}", missing_dir_ok=True)

    def unique_prefix(self, tag):
        self.seq += 1
        return f"bench/{tag}-{os.getpid()}-{self.seq}"

    def env(self):
        """The tool's environment: moto's endpoint and its fixed test credentials; no other AWS_
        variable of the caller's (a profile or session token) leaks in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_ENDPOINT_URL=self.endpoint, AWS_ALLOW_HTTP="true", AWS_REGION="us-east-1")
        return env

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------------------------
# The tools


def pipeline_yaml(sandbox, fmt, page_size, concurrency, rate=None, nested=False):
    """A Valomnia pipeline: `fields: all`, `arrays: json`, one file per format in `fmt`; with
    `nested`, NDJSON is written in its nested form (each record as the vendor sent it)."""
    lines = [
        "name: bench",
        "sources:",
        "  - vendor: valomnia",
        f"    base_url: {sandbox.base}",
        "    auth:",
        f"      token: {TOKEN}",
        f"    page_size: {page_size}",
        f"    concurrency: {concurrency}",
    ]
    if rate:
        lines.append(f"    rate_limit: {rate}/s")
    lines += ["transform:", "  fields: all", "  arrays: json", "outputs:"]
    for f in fmt:
        lines += [f"  - format: {f}", f"    path: out/{{vendor}}.{f}"]
        if nested and f == "ndjson":
            lines.append("    ndjson: {nested: true}")
    return "\n".join(lines) + "\n"


def run_customer_export(sandbox, fmt, page_size, concurrency, tag, rate=None, nested=False):
    work = WORK / f"ce-{tag}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pipe = work / "pipeline.yaml"
    pipe.write_text(pipeline_yaml(sandbox, fmt, page_size, concurrency, rate, nested))
    before = sandbox.stats()
    m = measure([EXE, "run", pipe, "--output-dir", work, "--quiet"])
    after = sandbox.stats()
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    m.manifest = manifest
    m.requests = after["list_requests"] - before["list_requests"]
    m.throttled = after["rate_limited"] - before["rate_limited"]
    rows = {}
    for f in fmt:
        path = work / "out" / f"valomnia.{f}"
        rows[f] = count_rows(path, f)
        listed = [o["rows"] for o in manifest["outputs"] if o["path"].endswith(path.name)]
        if listed and listed[0] != rows[f]:
            raise SystemExit(f"{path}: manifest says {listed[0]} rows, the file holds {rows[f]}")
    m.rows = rows[fmt[0]]
    m.path = work / "out" / f"valomnia.{fmt[0]}"
    m.output = "+".join(fmt)
    return m


def run_customer_export_s3(sandbox, moto, fmt, page_size, concurrency, tag):
    """The same export as `run_customer_export`, with `--output-dir s3://bench-bucket/<prefix>` on
    moto (a prefix of its own per run). Rows: the manifest's, read back from the store, checked
    against each Parquet file's footer; the run's staging folder must be gone."""
    work = WORK / f"ce-{tag}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pipe = work / "pipeline.yaml"
    pipe.write_text(pipeline_yaml(sandbox, fmt, page_size, concurrency))
    prefix = moto.unique_prefix(tag)
    m = measure([EXE, "run", pipe, "--output-dir", f"s3://{BUCKET}/{prefix}", "--quiet"], env=moto.env())
    manifest = json.loads(moto.get(f"{prefix}/out/manifest.json"))
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    m.manifest = manifest
    rows = {}
    for f in fmt:
        key = f"{prefix}/out/valomnia.{f}"
        listed = [o for o in manifest["outputs"] if o["path"].endswith(f"valomnia.{f}")]
        if not listed:
            raise SystemExit(f"s3://{BUCKET}/{key}: not in the manifest")
        rows[f] = listed[0]["rows"]
        size = moto.size(key)
        if size != listed[0]["bytes"]:
            raise SystemExit(f"s3://{BUCKET}/{key}: manifest says {listed[0]['bytes']} bytes, the object has {size}")
        if f == "parquet":
            in_file = moto.parquet_rows(key)
            if in_file != rows[f]:
                raise SystemExit(f"s3://{BUCKET}/{key}: manifest says {rows[f]} rows, the footer {in_file}")
    left = moto.keys(f"{prefix}/.customer-export")
    if left:
        raise SystemExit(f"the run left {len(left)} object(s) under its state folder, e.g. {left[0]}")
    moto.delete_prefix(prefix)
    m.rows = rows[fmt[0]]
    m.bytes = listed[0]["bytes"]
    m.output = "+".join(fmt) + " → s3 (moto)"
    return m


def run_floor(sandbox, page_size, concurrency):
    m = measure([FLOOR, sandbox.base, TOKEN, sandbox.customers, page_size, concurrency])
    pages, nbytes, _ = m.stdout.split()
    m.rows = None
    m.pages = int(pages)
    m.bytes = int(nbytes)
    m.output = f"{int(pages)} pages, {int(nbytes) / 1e6:.0f} MB read"
    return m


def run_dlt(sandbox, page_size):
    work = WORK / "dlt"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, RUNTIME__DLTHUB_TELEMETRY="false")
    m = measure([VENV_BIN / "python", BENCH / "dlt_valomnia.py", sandbox.base, TOKEN,
                 page_size, work / "lake", work], env=env, cwd=work)
    files = sorted((work / "lake" / "valomnia" / "customers").glob("*.parquet"))
    m.rows = sum(count_parquet(f) for f in files)
    m.output = "parquet (filesystem)"
    return m


def run_airbyte(sandbox, page_size):
    work = WORK / "airbyte"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    import yaml  # airbyte-cdk depends on PyYAML

    manifest = yaml.safe_load((BENCH / "airbyte_manifest.yaml").read_text())
    strategy = manifest["streams"][0]["retriever"]["paginator"]["pagination_strategy"]
    strategy["page_size"] = int(page_size)
    config = {"base_url": sandbox.base, "token": TOKEN,
              "__injected_declarative_manifest": manifest}
    catalog = {"streams": [{
        "stream": {"name": "customers", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}
    (work / "config.json").write_text(json.dumps(config))
    (work / "catalog.json").write_text(json.dumps(catalog))
    records = work / "messages.jsonl"
    m = measure([VENV_BIN / "source-declarative-manifest", "read", "--config", work / "config.json",
                 "--catalog", work / "catalog.json"], stdout_path=records, cwd=work)
    record = re.compile(rb'^\{"type": ?"RECORD"')
    with open(records, "rb") as f:
        m.rows = sum(1 for line in f if record.match(line))
    m.output = "records to a file (no destination)"
    return m


# The demo's five sources (pipelines/demo.yaml: the same filters and page sizes; Adobe at its
# 50-per-page limit, C3 in one response: it has no paging), pointed at a sandbox in its own process
# with the settings it prints (`customer-export sandbox`). `{host}` is the sandbox's URL.
FIVE_SOURCES = {
    "c3": """\
  - vendor: c3
    base_url: {host}/c3
    auth:
      tenant_id: sandbox-c3-tenant
      client_id: sandbox-c3-client
      client_secret: sandbox-c3-secret
      resource: api://sandbox-c3
      token_url: {host}/aad/sandbox-c3-tenant/oauth2/token
""",
    "crayon": """\
  - vendor: crayon
    base_url: {host}/crayon
    auth:
      client_id: sandbox-crayon-client
      client_secret: sandbox-crayon-secret
      username: sandbox-crayon-user
      password: sandbox-crayon-password
    filters:
      organizationId: 4703
    page_size: 200
""",
    "valomnia": """\
  - vendor: valomnia
    base_url: {host}/valomnia
    auth:
      token: sandbox-valomnia-token
    page_size: 500
""",
    "appxite": """\
  - vendor: appxite
    base_url: {host}/appxite
    organization_id: 97ab7e3c-74cb-4a72-a2c4-144a8996b7f9
    referer: https://sandbox.customer-export.local
    auth:
      client_id: sandbox-appxite-client
      client_secret: sandbox-appxite-secret
      subscription_key: sandbox-appxite-subscription-key
      token_url: {host}/appxite/oauth2/token
    filters:
      includeTenants: true
      includeContacts: true
      includeAddresses: true
      includeCustomProperties: true
      includeIndustries: true
""",
    "adobe_vipmp": """\
  - vendor: adobe_vipmp
    base_url: {host}/adobe
    reseller_id: "1000396138"
    auth:
      client_id: sandbox-adobe-client
      client_secret: sandbox-adobe-secret
      token_url: {host}/ims/ims/token/v3
""",
}
FIVE_PAGES = "c3 one response, crayon 200, valomnia 500, appxite 1000, adobe_vipmp 50 a page"


def five_pipeline_yaml(host, vendors, sources_at_once=None):
    """The demo's sources `vendors` against the sandbox at `host`, `fields: canonical` and
    `arrays: explode` as in the demo, one Parquet file per vendor (`{vendor}` in the path).
    `sources_at_once: 1` runs the sources one after the other; without the key, all at once."""
    lines = ["name: bench-five"]
    if sources_at_once is not None:
        lines.append(f"sources_at_once: {sources_at_once}")
    lines.append("sources:")
    text = "\n".join(lines) + "\n" + "".join(FIVE_SOURCES[v].replace("{host}", host) for v in vendors)
    return text + ("transform:\n  fields: canonical\n  arrays: explode\n"
                   "outputs:\n  - format: parquet\n    path: out/{vendor}.parquet\n")


def run_five(sandbox, vendors, tag, sources_at_once=None):
    """customer-export over `vendors` (some of the demo's five) into Parquet, one file per vendor.
    Wall and peak RSS of the whole run; records from the manifest (every source must have
    succeeded), rows counted in each file and checked against the manifest (rows outnumber records
    where `arrays: explode` unrolls tenants)."""
    work = WORK / f"five-{tag}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pipe = work / "pipeline.yaml"
    pipe.write_text(five_pipeline_yaml(sandbox.host, vendors, sources_at_once))
    m = measure([EXE, "run", pipe, "--output-dir", work, "--quiet"])
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    failed = [s["vendor"] for s in manifest["sources"] if s["status"] != "succeeded"]
    if failed:
        raise SystemExit(f"{pipe}: source(s) {', '.join(failed)} did not succeed (see {work / 'out' / 'manifest.json'})")
    m.records = {s["vendor"]: s["records"] for s in manifest["sources"]}
    m.source_seconds = {s["vendor"]: s["seconds"] for s in manifest["sources"]}
    m.rows = 0
    for vendor in vendors:
        rows = count_parquet(work / "out" / f"{vendor}.parquet")
        listed = [o["rows"] for o in manifest["outputs"] if o["path"].endswith(f"{vendor}.parquet")]
        if listed != [rows]:
            raise SystemExit(f"{vendor}.parquet: manifest says {listed} rows, the file holds {rows}")
        m.rows += rows
    return m


def write_valomnia_ndjson(sandbox, tag):
    """The sandbox's Valomnia records on disk, one JSON object a line as the API serves them: the
    input of the DuckDB row, not timed. Written by customer-export's nested NDJSON (each record as
    the vendor sent it), one page of 1000 at a time so the lines keep the API's order, checked here
    against the sandbox's first page."""
    m = run_customer_export(sandbox, ["ndjson"], 1000, 1, tag, nested=True)
    req = urllib.request.Request(f"{sandbox.base}/api/v1.0/customers?max=100&offset=0",
                                 headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
    with urllib.request.urlopen(req) as r:
        served = json.load(r)["data"]
    with open(m.path, encoding="utf-8") as f:
        written = [json.loads(f.readline()) for _ in served]
    if written != served:
        raise SystemExit(f"{m.path}: its first lines are not the records the sandbox serves")
    if m.rows != sandbox.customers:
        raise SystemExit(f"{m.path}: {m.rows} lines, the sandbox has {sandbox.customers} customers")
    return m.path


def run_duckdb(ndjson_path, tag):
    """DuckDB converting NDJSON on disk to Parquet (`bench/duckdb_convert.py`: one `COPY (SELECT *
    FROM read_json_auto(…)) TO … (FORMAT parquet)`), as its own process: wall and peak RSS include
    the Python interpreter that hosts DuckDB, as they include dlt's and Airbyte's."""
    out = WORK / f"duckdb-{tag}.parquet"
    out.unlink(missing_ok=True)
    m = measure([VENV_BIN / "python", BENCH / "duckdb_convert.py", ndjson_path, out])
    m.rows = count_parquet(out)
    m.output = f"parquet ({out.stat().st_size / 1e6:.0f} MB) from NDJSON ({ndjson_path.stat().st_size / 1e6:.0f} MB)"
    return m


def duckdb_version():
    """The DuckDB the venv holds (pinned in run.sh)."""
    from importlib.metadata import version

    return version("duckdb")


def count_rows(path, fmt):
    if fmt == "parquet":
        return count_parquet(path)
    if fmt == "ndjson":
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    return count_csv(path)


def count_parquet(path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def count_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


# --------------------------------------------------------------------------------------------
# Sections


def median_run(runs, fn):
    ms = [fn() for _ in range(runs)]
    walls = [m.wall for m in ms]
    best = ms[0]
    best.runs = walls
    best.wall = statistics.median(walls)
    best.rss_mb = statistics.median(m.rss_mb for m in ms)
    best.first_wall = walls[0]
    return best


def fmt_row(cells, widths):
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def verdict(ok):
    return "met" if ok else "MISSED"


def print_targets(targets):
    """The targets block: one line per (what, result, met) — met is None for a figure without a
    target."""
    width = max(len(what) for what, _, _ in targets)
    for what, result, ok in targets:
        print(f"  {what.ljust(width)}  {result}" + ("" if ok is None else f"  {verdict(ok)}"))


def speedup(ce, m):
    """How many times faster customer-export's wall is than `m`'s."""
    return m.wall / ce.wall


def print_tool_table(title, results, total, ref=CE_NAME):
    """A comparison table: one row per tool with wall, peak RSS, rows, rows/s and ce÷tool (the
    reference row's wall ÷ the tool's: below 1, customer-export is faster). Returns whether every
    tool's row count equals the sandbox's `total`."""
    ce = dict(results)[ref]
    widths = [40, 8, 9, 10, 10, 18, 26]
    print()
    print(title)
    print(fmt_row(["tool", "wall s", "peak MB", "rows", "rows/s", "ce÷tool", "output"], widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for name, m in results:
        rows = m.rows if m.rows is not None else total
        ratio = ce.wall / m.wall
        ratio_txt = f"{ratio:.3f}" + (f" ({1 / ratio:.0f}× faster)" if ratio < 0.5 else "")
        print(fmt_row([name, f"{m.wall:.2f}", f"{m.rss_mb:.0f}",
                       m.rows if m.rows is not None else "—", f"{rows / m.wall:,.0f}",
                       ratio_txt if name != ref else "1", m.output], widths))
    counts = {name: m.rows for name, m in results if m.rows is not None}
    agree = len(set(counts.values())) == 1 and total in counts.values()
    print(f"row counts: {', '.join(f'{k}={v}' for k, v in counts.items())} → "
          f"{'all agree' if agree else 'DISAGREE'} (sandbox total {total})")
    for name, m in results:
        if len(getattr(m, "runs", [])) > 1:
            print(f"  runs of {name}: {', '.join(f'{w:.2f}' for w in m.runs)} s")
    return agree


def peer_rows(sbx, page_sizes, runs):
    """dlt and Airbyte at each page size in `page_sizes`, named `tool @page_size`."""
    results = []
    for page_size in page_sizes:
        log(f"   dlt, page_size {page_size} ...")
        results.append((f"dlt rest_api → parquet @{page_size}", median_run(
            runs, lambda: run_dlt(sbx, page_size))))
        log(f"   airbyte, page_size {page_size} ...")
        results.append((f"airbyte declarative (source only) @{page_size}", median_run(
            runs, lambda: run_airbyte(sbx, page_size))))
    return results


def section_main(args):
    """The comparison at `--customers`: the floor, customer-export (Parquet, S3, CSV) and the peers
    at customer-export's page size and at their best; then the issue's targets, met or missed."""
    n = args.customers
    peer_sizes = args.peer_page_sizes
    log(f"== main: {n} customers, page_size {args.page_size} (peers {', '.join(map(str, peer_sizes))}), "
        f"concurrency {args.concurrency}, {args.runs} run(s) of customer-export and the floor, "
        f"{args.peer_runs} of each peer")
    results = []
    with Sandbox(n) as sbx:
        # One warm-up fetch so that no tool pays for a cold sandbox.
        run_floor(sbx, args.page_size, args.concurrency)
        results.append(("floor (raw fetch, Rust)", median_run(
            args.runs, lambda: run_floor(sbx, args.page_size, args.concurrency))))
        results.append((CE_NAME, median_run(
            args.runs, lambda: run_customer_export(sbx, ["parquet"], args.page_size, args.concurrency, "parquet"))))
        if not args.no_s3:
            log("   S3 (moto) ...")
            with Moto() as moto:
                # A warm-up run, as for the floor: moto's first multipart upload and copy are slow.
                run_customer_export_s3(sbx, moto, ["parquet"], args.page_size, args.concurrency, "s3")
                results.append((S3_NAME, median_run(
                    args.runs, lambda: run_customer_export_s3(sbx, moto, ["parquet"], args.page_size,
                                                              args.concurrency, "s3"))))
        results.append(("customer-export csv", median_run(
            args.runs, lambda: run_customer_export(sbx, ["csv"], args.page_size, args.concurrency, "csv"))))
        if not args.no_peers:
            results += peer_rows(sbx, peer_sizes, args.peer_runs)

    agree = print_tool_table(
        f"Valomnia, {n} customers; customer-export and floor: page_size {args.page_size}, "
        f"concurrency {args.concurrency}, median of {args.runs} run(s); peers (@page_size): "
        f"{' and '.join(map(str, peer_sizes))}, sequential, {args.peer_runs} run(s)", results, n)
    print(f"ce÷tool = {CE_NAME} wall ÷ the tool's wall (targets: ≤ {FLOOR_RATIO} vs the floor, "
          f"≤ {1 / PEER_SPEEDUP:.2f} vs each peer at page_size {args.page_size})")
    by_name = dict(results)
    ce = by_name[CE_NAME]
    if S3_NAME in by_name:
        s3 = by_name[S3_NAME]
        print(f"S3 (moto) vs local disk: wall {s3.wall:.2f} vs {ce.wall:.2f} s ({s3.wall / ce.wall:.2f}×), "
              f"peak RSS {s3.rss_mb:.0f} vs {ce.rss_mb:.0f} MB ({s3.rss_mb / ce.rss_mb:.2f}×, "
              f"{s3.rss_mb - ce.rss_mb:+.0f} MB); moto_server is a separate process, not counted")
    print(f"targets ({CE_NAME}, this run):")
    targets = []
    if not args.no_peers:
        for tool, label in (("dlt rest_api → parquet", "dlt"), ("airbyte declarative (source only)", "Airbyte")):
            same = by_name.get(f"{tool} @{args.page_size}")
            if same:
                x = speedup(ce, same)
                targets.append((f"≥ {PEER_SPEEDUP}× faster than {label} at the same page_size ({args.page_size})",
                                f"{x:.1f}× (ce÷tool {1 / x:.3f})", x >= PEER_SPEEDUP))
            for size in peer_sizes:
                if size != args.page_size:
                    x = speedup(ce, by_name[f"{tool} @{size}"])
                    targets.append((f"  {label} at page_size {size} (fewer requests; no target)", f"{x:.1f}×", None))
    floor = by_name["floor (raw fetch, Rust)"]
    x = ce.wall / floor.wall
    targets.append((f"≤ {FLOOR_RATIO}× the raw-fetch floor", f"{x:.2f}×", x <= FLOOR_RATIO))
    print_targets(targets)
    return agree


def section_slow(args):
    """A slow vendor: every list response `--slow-delay-ms` late, page_size 100 for every tool;
    customer-export and the floor with `--slow-concurrency` pages in flight, dlt and Airbyte one
    page at a time (as they page). Waiting dominates, so this measures how well a tool overlaps
    requests. The peers take ~45 s each at 20k customers: one run each."""
    n = args.slow_customers
    delay = args.slow_delay_ms
    conc = args.slow_concurrency
    page_size = args.slow_page_size
    log(f"== slow: sandbox --list-delay-ms {delay}, {n} customers, page_size {page_size}, "
        f"customer-export and the floor at concurrency {conc}")
    results = []
    with Sandbox(n, list_delay_ms=delay) as sbx:
        results.append(("floor (raw fetch, Rust)", median_run(
            args.runs, lambda: run_floor(sbx, page_size, conc))))
        results.append((CE_NAME, median_run(
            args.runs, lambda: run_customer_export(sbx, ["parquet"], page_size, conc, "slow"))))
        if not args.no_peers:
            results += peer_rows(sbx, [page_size], 1)
    agree = print_tool_table(
        f"Slow vendor: sandbox --list-delay-ms {delay} (every list response {delay} ms late), Valomnia, "
        f"{n} customers, page_size {page_size} for every tool; customer-export and floor: concurrency {conc}, "
        f"median of {args.runs} run(s); peers: sequential, 1 run", results, n)
    by_name = dict(results)
    ce = by_name[CE_NAME]
    pages = -(-n // page_size)
    print(f"{pages} pages × {delay} ms = {pages * delay / 1000:.1f} s of waiting one page at a time, "
          f"{pages * delay / 1000 / conc:.1f} s at {conc} in flight")
    print(f"targets ({CE_NAME}, this run):")
    floor = by_name["floor (raw fetch, Rust)"]
    x = ce.wall / floor.wall
    targets = [(f"≤ {FLOOR_RATIO}× the raw-fetch floor at the same concurrency ({conc})", f"{x:.2f}×",
                x <= FLOOR_RATIO)]
    if not args.no_peers:
        for tool, label in (("dlt rest_api → parquet", "dlt"), ("airbyte declarative (source only)", "Airbyte")):
            m = by_name[f"{tool} @{page_size}"]
            targets.append((f"faster than {label} at the same page_size (no target)",
                            f"{speedup(ce, m):.1f}× (ce÷tool {ce.wall / m.wall:.3f})", None))
    print_targets(targets)
    return agree


def section_five(args):
    """The demo's five vendors against one sandbox in its own process, `--five-customers` each:
    each source alone (a pipeline with just that source), all five one at a time
    (`sources_at_once: 1`) and all five at once (the key absent); then all five at once at
    `--five-memory-customers` each, for peak RSS. Running the sources at once should cost little
    more than the slowest source alone."""
    n = args.five_customers
    big = args.five_memory_customers
    vendors = list(FIVE_SOURCES)
    log(f"== five: {', '.join(vendors)} at {n} customers each: alone, sequential, concurrent; "
        f"then concurrent at {big} each")
    rows = []
    with Sandbox(n, every_vendor=True) as sbx:
        for vendor in vendors:
            rows.append((f"{vendor} alone", run_five(sbx, [vendor], f"alone-{vendor}")))
        rows.append(("all five, sequential (sources_at_once: 1)",
                     run_five(sbx, vendors, "sequential", sources_at_once=1)))
        rows.append(("all five, concurrent", run_five(sbx, vendors, "concurrent")))
    with Sandbox(big, every_vendor=True) as sbx:
        rows.append((f"all five, concurrent, {big} each", run_five(sbx, vendors, f"concurrent-{big}")))

    print()
    print(f"Five vendors, {n} customers each ({FIVE_PAGES}; concurrency 4 where the total is "
          f"known), fields canonical, arrays explode → one Parquet file per vendor; the sandbox is "
          f"a separate process (its RSS is not counted, its CPU shares the cores)")
    print_five_rows(rows)
    by_name = dict(rows)
    alone = {v: by_name[f"{v} alone"] for v in vendors}
    together = by_name["all five, concurrent"]
    same = all(together.records[v] == alone[v].records[v] for v in vendors)
    print(f"records per vendor: {', '.join(f'{v}={together.records[v]}' for v in vendors)} → "
          f"{'the same alone and together' if same else 'DIFFER between alone and together'}")
    slowest = max(vendors, key=lambda v: alone[v].wall)
    x = together.wall / alone[slowest].wall
    print("targets (this run):")
    targets = [(f"concurrent ÷ slowest alone ({slowest}, {alone[slowest].wall:.2f} s) ≤ {FIVE_RATIO}×",
                f"{x:.2f}×", x <= FIVE_RATIO)]
    seq = by_name["all five, sequential (sources_at_once: 1)"]
    targets.append(("concurrent ÷ sequential (no target)",
                    f"wall {together.wall / seq.wall:.2f}×, peak RSS {together.rss_mb / seq.rss_mb:.2f}× "
                    f"({together.rss_mb - seq.rss_mb:+.1f} MB)", None))
    top = by_name[f"all five, concurrent, {big} each"].rss_mb
    targets.append((f"peak RSS, five × {big} concurrently ≤ {RSS_MB} MB", f"{top:.1f} MB", top <= RSS_MB))
    print_targets(targets)
    return five_with_latency(args) and same


def print_five_rows(rows):
    """A five-vendor table: (name, measurement) per run."""
    widths = [42, 8, 9, 10, 10, 12]
    print(fmt_row(["run", "wall s", "peak MB", "records", "rows", "records/s"], widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for name, m in rows:
        records = sum(m.records.values())
        print(fmt_row([name, f"{m.wall:.2f}", f"{m.rss_mb:.1f}", records, m.rows, f"{records / m.wall:,.0f}"], widths))


def five_with_latency(args):
    """The five vendors again, each list response `--five-latency-ms` late as a real vendor's
    (the local sandbox answers in microseconds, so the table above is CPU-bound: five sources at
    once cannot cost less CPU than the five one after the other). Here the sources wait on their
    vendors, as a nightly export does, and running them at once should take about as long as the
    slowest alone."""
    n, delay = args.five_latency_customers, args.five_latency_ms
    vendors = list(FIVE_SOURCES)
    log(f"== five at {n} customers each, list responses {delay} ms late: alone, sequential, concurrent")
    rows = []
    with Sandbox(n, every_vendor=True, list_delay_ms=delay) as sbx:
        for vendor in vendors:
            rows.append((f"{vendor} alone", run_five(sbx, [vendor], f"late-alone-{vendor}")))
        rows.append(("all five, sequential (sources_at_once: 1)",
                     run_five(sbx, vendors, "late-sequential", sources_at_once=1)))
        rows.append(("all five, concurrent", run_five(sbx, vendors, "late-concurrent")))
    print()
    print(f"Five vendors with a vendor's latency: every list response {delay} ms late, {n} customers "
          f"each ({FIVE_PAGES}; concurrency 4 pages)")
    print_five_rows(rows)
    by_name = dict(rows)
    slowest = max(vendors, key=lambda v: by_name[f"{v} alone"].wall)
    together, seq = by_name["all five, concurrent"], by_name["all five, sequential (sources_at_once: 1)"]
    x = together.wall / by_name[f"{slowest} alone"].wall
    print("targets (this run):")
    print_targets([
        (f"concurrent ÷ slowest alone ({slowest}, {by_name[f'{slowest} alone'].wall:.2f} s) ≤ {FIVE_RATIO}×",
         f"{x:.2f}×", x <= FIVE_RATIO),
        ("concurrent ÷ sequential (no target)", f"wall {together.wall / seq.wall:.2f}×", None),
    ])
    return all(together.records[v] == by_name[f"{v} alone"].records[v] for v in vendors)


def section_memory(args):
    sizes = args.memory_sizes
    log(f"== memory: customer-export parquet at {', '.join(map(str, sizes))} customers"
        + ("" if args.no_s3 else ", to local disk and to S3 (moto)"))
    rows = []
    s3_rows = []
    moto = None if args.no_s3 else Moto()
    try:
        for n in sizes:
            with Sandbox(n) as sbx:
                m = run_customer_export(sbx, ["parquet"], args.page_size, args.concurrency, f"mem-{n}")
                rows.append((n, m))
                if moto:
                    s3_rows.append((n, run_customer_export_s3(sbx, moto, ["parquet"], args.page_size,
                                                              args.concurrency, f"mem-s3-{n}")))
    finally:
        if moto:
            moto.close()
    print()
    print("Memory flatness: customer-export → parquet (fields all, arrays json)")
    widths = [10, 8, 9, 12, 10]
    print(fmt_row(["customers", "wall s", "peak MB", "rows/s", "rows"], widths))
    for n, m in rows:
        print(fmt_row([n, f"{m.wall:.2f}", f"{m.rss_mb:.1f}", f"{m.rows / m.wall:,.0f}", m.rows], widths))
    growth = rows[-1][1].rss_mb / rows[0][1].rss_mb
    top = max(m.rss_mb for _, m in rows)
    print(f"peak RSS {sizes[-1]} ÷ {sizes[0]}: {growth:.2f}× (target < {RSS_GROWTH}×: {verdict(growth < RSS_GROWTH)}); "
          f"largest {top:.1f} MB (target ≤ {RSS_MB} MB: {verdict(top <= RSS_MB)})")
    if not s3_rows:
        return
    print()
    print("Memory: customer-export → S3 (moto), the same export (--output-dir s3://bench-bucket/…), beside local disk")
    widths = [10, 8, 9, 12, 10, 9, 12, 11]
    print(fmt_row(["customers", "wall s", "peak MB", "rows/s", "rows", "local MB", "S3÷local MB", "S3 MB−local"], widths))
    for (n, m), (_, local) in zip(s3_rows, rows):
        print(fmt_row([n, f"{m.wall:.2f}", f"{m.rss_mb:.1f}", f"{m.rows / m.wall:,.0f}", m.rows,
                       f"{local.rss_mb:.1f}", f"{m.rss_mb / local.rss_mb:.2f}×", f"{m.rss_mb - local.rss_mb:+.1f}"], widths))
    growth = s3_rows[-1][1].rss_mb / s3_rows[0][1].rss_mb
    top = s3_rows[-1][1].rss_mb
    over = "met" if top <= RSS_MB else f"MISSED by {top - RSS_MB:.1f} MB"
    print(f"S3 peak RSS {sizes[-1]} ÷ {sizes[0]}: {growth:.2f}×; at {sizes[-1]}: {top:.1f} MB "
          f"(target ≤ {RSS_MB} MB: {over}); wall vs local {s3_rows[-1][1].wall / rows[-1][1].wall:.2f}×")
    bad = [(n, m.rows) for n, m in s3_rows if m.rows != n]
    if bad:
        print(f"S3 row counts DISAGREE with the sandbox: {bad}")


def section_rate(args):
    r = args.rate
    n = args.rate_customers
    log(f"== rate: sandbox limit {r}/s, pipeline rate_limit {r}/s, page_size {args.rate_page_size}, {n} customers")
    with Sandbox(n, rate_limit=r) as sbx:
        m = run_customer_export(sbx, ["parquet"], args.rate_page_size, args.concurrency, "rate", rate=r)
    src = m.manifest["sources"][0]
    achieved = m.requests / src["seconds"]
    print()
    print(f"Rate limit: sandbox {r} req/s, pipeline rate_limit {r}/s, concurrency {args.concurrency}")
    print(f"  requests {m.requests} in {src['seconds']:.2f} s (source time; process wall {m.wall:.2f} s)"
          f" → {achieved:.2f} req/s = {100 * achieved / r:.1f}% of the allowed rate (target ≥ 97%)")
    print(f"  429s: sandbox counted {m.throttled}, the manifest {src['rate_limited']} (target 0);"
          f" rows {m.rows} of {n}")


def section_diff(args):
    """`customer-export diff` of two Parquet exports of `--diff-customers` Valomnia customers: the
    second night has 1 % more customers and a field rolled out to 1 % of them (schema drift, kept
    in `_extra`), so about 1 % are added and 1 % changed."""
    n = args.diff_customers
    log(f"== diff: two exports of {n} customers, 1 % added and about 1 % changed")
    with Sandbox(n, drift=0) as sbx:
        old = run_customer_export(sbx, ["parquet"], args.page_size, args.concurrency, "diff-old")
    with Sandbox(n + n // 100, drift=0.01) as sbx:
        new = run_customer_export(sbx, ["parquet"], args.page_size, args.concurrency, "diff-new")
    changes = WORK / "diff-changes.parquet"
    # `fields: all` names Valomnia's own columns: its `id` is the key.
    m = measure([EXE, "diff", WORK / "ce-diff-old" / "out", WORK / "ce-diff-new" / "out",
                 "--key", "id", "--output", changes])
    total = next(line for line in m.stdout.splitlines() if line.startswith("total")).split()
    added, removed, changed = (int(x) for x in total[1:4])
    print()
    print(f"diff: two Parquet exports ({old.rows:,} and {new.rows:,} rows, fields all), change set to Parquet")
    widths = [12, 12, 8, 9, 8, 9, 9, 12]
    print(fmt_row(["old rows", "new rows", "added", "removed", "changed", "wall s", "peak MB", "rows/s"], widths))
    print(fmt_row([old.rows, new.rows, added, removed, changed, f"{m.wall:.2f}", f"{m.rss_mb:.1f}",
                   f"{(old.rows * 2 + new.rows) / m.wall:,.0f}"], widths))
    print("  (rows/s counts the rows read: OLD twice, NEW once)")


def section_duckdb(args):
    """The conversion limit: DuckDB converting `--duckdb-customers` Valomnia records already on disk
    as NDJSON (written beforehand, not timed) to Parquet, beside customer-export's whole export of
    the same records from the sandbox (fetching, parsing, writing Parquet). If customer-export end
    to end is no slower than DuckDB's file-to-file conversion, the fetching costs it nothing that
    matters."""
    n = args.duckdb_customers
    log(f"== duckdb: {n} Valomnia records, DuckDB NDJSON → Parquet from disk vs customer-export from the sandbox")
    with Sandbox(n) as sbx:
        ndjson = write_valomnia_ndjson(sbx, "duckdb-ndjson")
        results = [
            (f"duckdb {duckdb_version()} read_json_auto → parquet", median_run(args.runs, lambda: run_duckdb(ndjson, "convert"))),
            (CE_NAME, median_run(args.runs, lambda: run_customer_export(
                sbx, ["parquet"], args.page_size, args.concurrency, "duckdb-ce"))),
        ]
    results[1][1].output = "parquet, end to end from the sandbox"
    agree = print_tool_table(
        f"Conversion limit: {n} Valomnia records. DuckDB: NDJSON already on disk → Parquet (file to file, "
        f"its own process). customer-export: fetched from the sandbox (page_size {args.page_size}, "
        f"concurrency {args.concurrency}) → Parquet (fields all, arrays json). Median of {args.runs} run(s)",
        results, n)
    duck, ce = results[0][1], results[1][1]
    x = ce.wall / duck.wall
    print("targets (this run):")
    print_targets([
        ("customer-export end to end no slower than DuckDB's conversion (ce÷duckdb ≤ 1)",
         f"{x:.2f}× ({ce.wall:.2f} vs {duck.wall:.2f} s)", x <= 1),
        ("peak RSS, customer-export vs DuckDB (no target)",
         f"{ce.rss_mb:.0f} vs {duck.rss_mb:.0f} MB ({ce.rss_mb / duck.rss_mb:.2f}×)", None),
    ])
    return agree


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3, help="runs of customer-export and the floor (median)")
    p.add_argument("--peer-runs", type=int, default=1, help="runs of dlt and Airbyte in main (median)")
    p.add_argument("--page-size", type=int, default=100,
                   help="customer-export and the floor (small pages keep few records in flight)")
    p.add_argument("--peer-page-sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                   help="dlt and Airbyte in main: each at every size listed (default: --page-size, "
                   "the same as customer-export, and 1000, their fastest)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"any of {','.join(SECTIONS)}")
    p.add_argument("--no-peers", action="store_true", help="skip dlt and Airbyte")
    p.add_argument("--no-s3", action="store_true",
                   help="skip the customer-export → S3 (moto) rows (main and memory)")
    p.add_argument("--slow-customers", type=int, default=20_000)
    p.add_argument("--slow-delay-ms", type=int, default=150, help="the slow sandbox's --list-delay-ms")
    p.add_argument("--slow-concurrency", type=int, default=8, help="customer-export and the floor in slow")
    p.add_argument("--slow-page-size", type=int, default=100, help="every tool in slow")
    p.add_argument("--five-customers", type=int, default=100_000, help="customers of each vendor in five")
    p.add_argument("--five-memory-customers", type=int, default=200_000,
                   help="customers of each vendor in five's last run, all five at once (peak RSS)")
    p.add_argument("--five-latency-customers", type=int, default=5_000,
                   help="customers of each vendor in five's run with a vendor's latency")
    p.add_argument("--five-latency-ms", type=int, default=150,
                   help="the sandbox's --list-delay-ms in five's run with a vendor's latency")
    p.add_argument("--memory-sizes", type=lambda s: [int(x) for x in s.split(",")],
                   default=[10_000, 100_000, 1_000_000])
    p.add_argument("--diff-customers", type=int, default=1_000_000,
                   help="customers in each of the two exports the diff section compares")
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--rate-page-size", type=int, default=100)
    p.add_argument("--rate-customers", type=int, default=100_000)
    p.add_argument("--duckdb-customers", type=int, default=100_000)
    p.add_argument("--quick", action="store_true",
                   help="10k customers, one run each, memory at 10k and 100k, a 5 s rate run, slow at "
                   "2k, five at 10k (20k for its memory run), duckdb at 10k")
    args = p.parse_args()
    if args.quick:
        args.customers = 10_000
        args.runs = args.peer_runs = 1
        args.memory_sizes = [10_000, 100_000]
        args.rate_customers = int(args.rate * args.rate_page_size * 5)
        args.diff_customers = 100_000
        args.slow_customers = 2_000
        args.five_customers = 10_000
        args.five_memory_customers = 20_000
        args.five_latency_customers = 1_000
        args.duckdb_customers = 10_000
    if args.peer_page_sizes is None:
        args.peer_page_sizes = list(dict.fromkeys([args.page_size, 1000]))
    sections = args.sections.split(",")
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; any of {','.join(SECTIONS)}")
    for tool in (EXE, FLOOR, Path("/usr/bin/time")):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run bench/run.sh, which builds it "
                             "(/usr/bin/time: apt-get install time)")
    WORK.mkdir(parents=True, exist_ok=True)
    run = {"main": section_main, "slow": section_slow, "five": section_five, "memory": section_memory,
           "rate": section_rate, "diff": section_diff, "duckdb": section_duckdb}
    ok = True
    for name in SECTIONS:
        if name in sections:
            ok = run[name](args) is not False and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
