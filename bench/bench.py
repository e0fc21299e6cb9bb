"""The benchmark of issue 7: customer-export against dlt, Airbyte and the raw-fetch floor.

Run through `bench/run.sh` (which builds and installs what this needs). Every tool runs as a child
process against the same sandbox (Valomnia: static bearer token, `max`/`offset` paging); wall time
and peak RSS come from GNU time wrapped around that child, row counts from each tool's own output.

Sections: `main` (the comparison table), `memory` (peak RSS at 10k, 100k, 1M customers), `rate`
(adherence to a server-side rate limit), `diff` (`customer-export diff` of two 1M-row exports).
Nothing here is a test: no timing is asserted.

The S3 rows (`customer-export → S3 (moto)`, in `main` and `memory`; `--no-s3` leaves them out) write
the same export to `s3://bench-bucket/<prefix>` on a moto server this script starts on a free port
of its own (`.ci/emulators.sh install` puts moto in `.ci/.emulators/venv`) and stops at the end; the
row count is read back from the store: the manifest's, checked against the Parquet footer.
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
EXE = ROOT / "target" / "release" / "customer-export"
FLOOR = ROOT / "target" / "bench-floor" / "release" / "floor"
VENV_BIN = Path(sys.executable).parent
TOKEN = "sandbox-valomnia-token"
# Where `.ci/emulators.sh install` puts moto (EMU_DIR moves it, as for that script).
MOTO_SERVER = Path(os.environ.get("EMU_DIR") or ROOT / ".ci" / ".emulators") / "venv" / "bin" / "moto_server"
BUCKET = "bench-bucket"
S3_NAME = "customer-export → S3 (moto)"

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
    """`customer-export sandbox` in its own process (its CPU is not the tool's RSS)."""

    def __init__(self, customers, rate_limit=None, drift=None):
        self.port = free_port()
        cmd = [EXE, "sandbox", "--port", str(self.port), "--customers", "10",
               "--vendor-customers", f"valomnia={customers}", "--seed", "42"]
        if rate_limit:
            cmd += ["--rate-limit", str(rate_limit)]
        if drift is not None:
            cmd += ["--drift", str(drift)]
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


def pipeline_yaml(sandbox, fmt, page_size, concurrency, rate=None):
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
    return "\n".join(lines) + "\n"


def run_customer_export(sandbox, fmt, page_size, concurrency, tag, rate=None):
    work = WORK / f"ce-{tag}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pipe = work / "pipeline.yaml"
    pipe.write_text(pipeline_yaml(sandbox, fmt, page_size, concurrency, rate))
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
        rows[f] = count_parquet(path) if f == "parquet" else count_csv(path)
        listed = [o["rows"] for o in manifest["outputs"] if o["path"].endswith(path.name)]
        if listed and listed[0] != rows[f]:
            raise SystemExit(f"{path}: manifest says {listed[0]} rows, the file holds {rows[f]}")
    m.rows = rows[fmt[0]]
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


def section_main(args):
    n = args.customers
    log(f"== main: {n} customers, page_size {args.page_size} (peers {args.peer_page_size}), concurrency {args.concurrency}, "
        f"{args.runs} run(s) of customer-export and the floor, {args.peer_runs} of each peer")
    results = []
    with Sandbox(n) as sbx:
        # One warm-up fetch so that no tool pays for a cold sandbox.
        run_floor(sbx, args.page_size, args.concurrency)
        results.append(("floor (raw fetch, Rust)", median_run(
            args.runs, lambda: run_floor(sbx, args.page_size, args.concurrency))))
        results.append(("customer-export parquet", median_run(
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
            log("   dlt ...")
            results.append(("dlt rest_api → parquet", median_run(
                args.peer_runs, lambda: run_dlt(sbx, args.peer_page_size))))
            log("   airbyte ...")
            results.append(("airbyte declarative (source only)", median_run(
                args.peer_runs, lambda: run_airbyte(sbx, args.peer_page_size))))

    ce = dict(results)["customer-export parquet"]
    widths = [34, 8, 9, 10, 10, 12, 26]
    print()
    print(f"Valomnia, {n} customers; customer-export and floor: page_size {args.page_size}, "
          f"concurrency {args.concurrency}, median of {args.runs} run(s); "
          f"peers: page_size {args.peer_page_size}, sequential, {args.peer_runs} run(s)")
    print(fmt_row(["tool", "wall s", "peak MB", "rows", "rows/s", "ce÷tool", "output"], widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for name, m in results:
        rows = m.rows if m.rows is not None else n
        ratio = ce.wall / m.wall
        ratio_txt = f"{ratio:.3f}" + (f" ({1 / ratio:.0f}× faster)" if ratio < 0.5 else "")
        print(fmt_row([name, f"{m.wall:.2f}", f"{m.rss_mb:.0f}",
                       m.rows if m.rows is not None else "—", f"{rows / m.wall:,.0f}",
                       ratio_txt if name != "customer-export parquet" else "1", m.output], widths))
    counts = {name: m.rows for name, m in results if m.rows is not None}
    agree = len(set(counts.values())) == 1 and n in counts.values()
    print(f"row counts: {', '.join(f'{k}={v}' for k, v in counts.items())} → "
          f"{'all agree' if agree else 'DISAGREE'} (sandbox total {n})")
    for name, m in results:
        if len(m.runs) > 1:
            print(f"  runs of {name}: {', '.join(f'{w:.2f}' for w in m.runs)} s")
    print("ce÷tool = customer-export parquet wall ÷ the tool's wall (target ≤ 1.5 vs the floor, ≤ 0.05 vs the peers)")
    if S3_NAME in dict(results):
        s3 = dict(results)[S3_NAME]
        print(f"S3 (moto) vs local disk: wall {s3.wall:.2f} vs {ce.wall:.2f} s ({s3.wall / ce.wall:.2f}×), "
              f"peak RSS {s3.rss_mb:.0f} vs {ce.rss_mb:.0f} MB ({s3.rss_mb / ce.rss_mb:.2f}×, "
              f"{s3.rss_mb - ce.rss_mb:+.0f} MB); moto_server is a separate process, not counted")
    return agree


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
    print(f"peak RSS {sizes[-1]} ÷ {sizes[0]}: {growth:.2f}× (target < 1.5×, and ≤ 64 MB)")
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
    verdict = "met" if top <= 64 else f"MISSED by {top - 64:.1f} MB"
    print(f"S3 peak RSS {sizes[-1]} ÷ {sizes[0]}: {growth:.2f}×; at {sizes[-1]}: {top:.1f} MB "
          f"(target ≤ 64 MB: {verdict}); wall vs local {s3_rows[-1][1].wall / rows[-1][1].wall:.2f}×")
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3, help="runs of customer-export and the floor (median)")
    p.add_argument("--peer-runs", type=int, default=1, help="runs of dlt and Airbyte (median)")
    p.add_argument("--page-size", type=int, default=100,
                   help="customer-export and the floor (small pages keep few records in flight)")
    p.add_argument("--peer-page-size", type=int, default=1000,
                   help="dlt and Airbyte (their fastest: fewer requests)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--sections", default="main,memory,rate,diff", help="any of main,memory,rate,diff")
    p.add_argument("--no-peers", action="store_true", help="skip dlt and Airbyte")
    p.add_argument("--no-s3", action="store_true",
                   help="skip the customer-export → S3 (moto) rows (main and memory)")
    p.add_argument("--memory-sizes", type=lambda s: [int(x) for x in s.split(",")],
                   default=[10_000, 100_000, 1_000_000])
    p.add_argument("--diff-customers", type=int, default=1_000_000,
                   help="customers in each of the two exports the diff section compares")
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--rate-page-size", type=int, default=100)
    p.add_argument("--rate-customers", type=int, default=100_000)
    p.add_argument("--quick", action="store_true",
                   help="10k customers, one run each, memory at 10k and 100k, a 5 s rate run")
    args = p.parse_args()
    if args.quick:
        args.customers = 10_000
        args.runs = args.peer_runs = 1
        args.memory_sizes = [10_000, 100_000]
        args.rate_customers = int(args.rate * args.rate_page_size * 5)
        args.diff_customers = 100_000
    for tool in (EXE, FLOOR, Path("/usr/bin/time")):
        if not tool.exists():
            raise SystemExit(f"{tool} is missing: run bench/run.sh, which builds it "
                             "(/usr/bin/time: apt-get install time)")
    WORK.mkdir(parents=True, exist_ok=True)
    sections = args.sections.split(",")
    ok = True
    if "main" in sections:
        ok = section_main(args)
    if "memory" in sections:
        section_memory(args)
    if "rate" in sections:
        section_rate(args)
    if "diff" in sections:
        section_diff(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
