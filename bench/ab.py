"""Interleaved A/B of whole commands: wall, CPU and peak RSS, as min and median of N rounds.

Usage: python3 bench/ab.py ROUNDS LABEL=COMMAND [LABEL=COMMAND ...]

Each round runs every command once, in the order given, so that a machine whose speed drifts
(shared 2-core machines move ±20–30 % within minutes) slows every variant alike; one variant run
N times in a row and then the other would measure the drift. A command is run by the shell under
`/usr/bin/time`; its output is discarded, and a command that fails stops the comparison.

Example (two builds against one running sandbox, five rounds):
    python3 bench/ab.py 5 old="./old run p.yaml" new="./new run p.yaml"
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def measure(command, times_file):
    """(wall s, CPU s, peak RSS MB) of one run of `command`."""
    run = subprocess.run(
        ["/usr/bin/time", "-o", times_file, "-f", "%e %U %S %M", "sh", "-c", command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        raise SystemExit(f"failed ({run.returncode}): {command}\n{run.stderr[-2000:]}")
    wall, user, system, rss_kb = Path(times_file).read_text().split()[-4:]
    return float(wall), float(user) + float(system), int(rss_kb) / 1024


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or any("=" not in a for a in sys.argv[2:]):
        raise SystemExit(__doc__)
    rounds = int(sys.argv[1])
    variants = [arg.split("=", 1) for arg in sys.argv[2:]]
    results = {label: [] for label, _ in variants}
    with tempfile.NamedTemporaryFile(suffix=".time") as times:
        for _ in range(rounds):
            for label, command in variants:
                results[label].append(measure(command, times.name))
    width = max(len(label) for label in results)
    for label, runs in results.items():
        wall, cpu, rss = zip(*runs)
        print(f"{label:{width}}  wall min {min(wall):.2f} s, median {statistics.median(wall):.2f} s"
              f"  CPU median {statistics.median(cpu):.2f} s"
              f"  peak RSS median {statistics.median(rss):.1f} MB (min {min(rss):.1f})")


if __name__ == "__main__":
    main()
