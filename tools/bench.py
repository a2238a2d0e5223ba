"""Benchmark: wall time and peak memory (whole process tree: Python plus the jsii Node process).

    python -m tools.bench [--config FILE] [--repeat 1]     (make bench)
    python -m tools.bench --suites [--config FILE]         (make bench-tests: about 20 minutes)

The first times importing the bindings, `main.py --check` and a full synth, and prints the installed sizes. The
second times `make test-fast` and `make test`, each against a `make synth FORCE=1` run just before it, and prints
the ratios against their targets (8x and 50x). Prints figures; exits non-zero only when a suite itself failed.
Targets live here, not in timed tests.
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
    """`pid` and its descendants now; a process that exits while the tree is read is left out."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:  # it exited since its parent listed it
            continue
        for task in tasks:
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


def _du_mb(path: Path) -> int:
    """Disk use of a folder in MB (apparent sizes of its files), 0 when it does not exist."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink()) // 2**20 if path.is_dir() else 0


#: What `make bench` measures, by the label the README's Measured table uses.
SYNTH_CASES = ("import cdktf + aws bindings", "config and names only (--check)", "full synth (main.py)")
#: What `make bench-tests` measures: each suite against one `make synth FORCE=1` run just before it, so the
#: machine's speed cancels out of the ratio; (label, command, the most the ratio may be).
SUITES = (("make test-fast", ["make", "-s", "test-fast"], 8), ("make test", ["make", "-s", "test"], 50))
SYNTH_LABEL = "make synth FORCE=1"


def _synth_cases(config: str, scratch: str) -> dict[str, list[str]]:
    python = sys.executable
    commands = (
        [python, "-c", "import cdktf, cdktf_cdktf_provider_aws.provider"],
        [python, "main.py", "--config", config, "--check"],
        [python, "main.py", "--config", config, "--outdir", f"{scratch}/out"],
    )
    return dict(zip(SYNTH_CASES, commands, strict=True))


def bench_synth(config: str, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        print(f"{'case':<36} {'run':>3} {'seconds':>8} {'peak MB':>8}")
        for label, command in _synth_cases(config, scratch).items():
            for run in range(1, repeat + 1):
                seconds, peak_mb, code = measure(command)
                status = "" if code == 0 else f"  (exit {code})"
                print(f"{label:<36} {run:>3} {seconds:>8.2f} {peak_mb:>8}{status}", flush=True)
    print(f"{'installed: .venv':<36} {'':>3} {'':>8} {_du_mb(ROOT / '.venv'):>8}")
    print(f"{'installed: node_modules':<36} {'':>3} {'':>8} {_du_mb(ROOT / 'node_modules'):>8}")


def bench_suites(config: str) -> int:
    """Each suite right after a synth of its own; prints both figures and their ratio against its target."""
    failed = 0
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        synth = ["make", "-s", "synth", "FORCE=1", f"CONFIG={config}", f"OUTDIR={scratch}/out"]
        print(f"{'case':<36} {'seconds':>8} {'peak MB':>8}")
        for label, command, target in SUITES:
            synth_seconds, synth_mb, _ = measure(synth)
            print(f"{SYNTH_LABEL:<36} {synth_seconds:>8.1f} {synth_mb:>8}", flush=True)
            seconds, peak_mb, code = measure(command)
            failed += code != 0
            status = "" if code == 0 else f"  (exit {code}: the suite failed)"
            print(f"{label:<36} {seconds:>8.1f} {peak_mb:>8}{status}", flush=True)
            ratio = seconds / synth_seconds
            verdict = "within" if ratio <= target else "OVER"
            print(f"{'':<4}{label} / {SYNTH_LABEL}: {ratio:.1f}x ({verdict} the target of {target}x)", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--repeat", type=int, default=1, choices=range(1, 11), metavar="1-10")
    parser.add_argument("--suites", action="store_true", help="time make test-fast and make test against make synth FORCE=1")
    args = parser.parse_args(argv)
    if args.suites:
        return bench_suites(args.config)
    bench_synth(args.config, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
