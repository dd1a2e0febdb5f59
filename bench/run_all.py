"""`make bench`: every bench/bench_*.py in turn, then one summary line per benchmark.

    .venv/bin/python bench/run_all.py [bench_name ...]

Each benchmark's output is shown as it runs. A benchmark ends with one line of figures,
"<name>: ... ratio X.Yx (target ...)", with MISSED when its target was missed; a benchmark
that measures two things prints one such line for each, the last of its output and the
lines before it of the same shape. Those lines are repeated together at the end, so the
figures of a run are read in one place. A missed target never stops the others; one that
crashes (or finds no database to measure) is listed as such, the others still run, and
the exit status is then 1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# "<name>: ... (target ...)" as the benchmarks print their result.
SUMMARY = re.compile(r"^[a-z][\w .,/-]*: .*\btarget\b", re.IGNORECASE)


def run(script: Path) -> tuple[int, list[str]]:
    """Run ``script``, echoing its output; its exit status and its summary lines."""
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               text=True, bufsize=1)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    status = process.wait()
    lines = [line for line in lines if line.strip()]
    summary = [line for line in lines if SUMMARY.match(line)]
    if lines and lines[-1] not in summary:
        summary.append(lines[-1])
    return status, summary


def main() -> int:
    chosen = set(sys.argv[1:])
    scripts = [s for s in sorted(HERE.glob("bench_*.py")) if not chosen or s.stem in chosen]
    results, crashed = [], []
    for script in scripts:
        print(f"== {script.relative_to(HERE.parent)}", flush=True)
        status, summary = run(script)
        if status != 0:
            crashed.append(script.name)
            summary = [f"{script.stem}: crashed (exit {status})"
                       + (f", last line: {summary[-1]}" if summary else "")]
        results.extend(summary or [f"{script.stem}: printed nothing"])
    print("\n== summary")
    for line in results:
        print(line)
    if crashed:
        print(f"crashed: {' '.join(crashed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
