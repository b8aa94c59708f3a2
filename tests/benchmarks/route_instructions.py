"""B1's instructions a line, counted by callgrind: a figure the machine's load does not move.

``python -m tests.benchmarks.route_instructions [ROOT]``: runs B1's 10,000-line run (compile
included, as ``bench_engine.run_engine`` does) under ``valgrind --tool=callgrind`` in a child
process, counting only inside that run (it is called through ``itertools.starmap``, and
collection is toggled on ``starmap_next``: the imports and the warm-up are not counted), and
prints its instructions per line. ROOT, as for ``cpu_ab``: another tree's ``engine/`` and
``modules/`` unpacked there, measured instead of this one. Needs valgrind (Debian's ``valgrind``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

LINES = 10_000
CHILD = (
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from tests.benchmarks import bench_engine\n"
    "from engine.registry import default_registry\n"
    "default_registry()\n"
    f"lines = bench_engine.invoice_lines({LINES})\n"
    "bench_engine.run_engine(lines[:50])\n"
    "import itertools\n"
    "list(itertools.starmap(bench_engine.run_engine, [(lines,)]))\n"
)


def instructions(root: str) -> int:
    """Instructions callgrind counted for the child process."""
    return counted_in_starmap(["-c", CHILD, root])


def counted_in_starmap(arguments: list[str], env: dict[str, str] | None = None) -> int:
    """Instructions callgrind counts inside ``itertools.starmap`` (``starmap_next``) while
    this Python runs ``arguments``, with ``env`` added to the environment."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=starmap_next",
                f"--callgrind-out-file={out}",
                sys.executable,
                *arguments,
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})},
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise RuntimeError(result.stderr[-3000:])
        return int(found.group(1))


def main(root: str) -> None:
    counted = instructions(root)
    print(f"{root}: {counted / LINES:,.0f} instructions a line ({counted:,} a run)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
