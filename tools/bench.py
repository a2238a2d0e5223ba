"""Benchmark: wall time and peak memory (whole process tree: Python plus the jsii Node process).

    python -m tools.bench [--config FILE] [--repeat 1]

Prints figures; asserts nothing. Targets live here, not in timed tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_KB = 4


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                queue += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                continue
    return pids


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(command: list[str]) -> tuple[float, int, int]:
    """Run `command`; return (seconds, peak summed RSS in MB of its process tree, exit code)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _rss_kb(_tree(process.pid)))
        time.sleep(0.05)
    return time.monotonic() - started, peak // 1024, process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="1-10")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        cases = {
            "import cdktf + aws bindings": [python, "-c", "import cdktf, cdktf_cdktf_provider_aws.provider"],
            "config validation only (--check)": [python, "main.py", "--config", args.config, "--check"],
            "full synth (main.py)": [python, "main.py", "--config", args.config, "--outdir", f"{scratch}/out"],
        }
        print(f"{'case':<36} {'run':>3} {'seconds':>8} {'peak MB':>8}")
        for label, command in cases.items():
            for run in range(1, args.repeat + 1):
                seconds, peak_mb, code = measure(command)
                status = "" if code == 0 else f"  (exit {code})"
                print(f"{label:<36} {run:>3} {seconds:>8.2f} {peak_mb:>8}{status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
