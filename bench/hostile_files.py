"""Issue 14's hostile register files, full size, each imported by ``dispatch import-register
--json`` in a child process of its own: prints its time, peak RSS and answer.

    .venv/bin/python bench/hostile_files.py [--keep]

The bombs (tests/imports/hostile.py writes them as streams): an XLSX with one cell of 512 MiB
(~523 KB packed), an XLSX of 5,000,000 rows, a CSV of one 200 MB line, a CSV with NUL inside
a street past the first 300 KB. On a fresh SQLite database, default limits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.imports import hostile  # noqa: E402

BOMBS = [
    ("xlsx, one 512 MiB cell", "cell.xlsx", lambda p: hostile.xlsx_one_big_cell(p, 512 << 20)),
    ("xlsx, 5,000,000 rows", "rows.xlsx", lambda p: hostile.xlsx_many_rows(p, 5_000_000)),
    ("csv, one 200 MB line", "line.csv", lambda p: hostile.csv_one_line(p, 200_000_000)),
    ("csv, NUL past 300 KB", "nul.csv", hostile.csv_nul_late),
]


CLI = [sys.executable, "-c", "from dispatch.cli import main; main()"]


def _dispatch(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "DISPATCH_INSTANCE": str(folder / "instance"), "LOG_FORMAT": "text"}
    for step in (["db", "upgrade"], ["create-landlord", "--code", "ACME", "--name", "Acme"]):
        done = _dispatch(env, *step)
        if done.returncode:
            sys.exit(done.stderr)
    print(f"{'file':26} {'size MB':>8} {'seconds':>8} {'peak RSS MB':>12}  answer")
    for label, name, make in BOMBS:
        path = make(folder / name)
        started = time.monotonic()
        with (folder / "out").open("wb") as out, (folder / "err").open("wb") as err:
            child = subprocess.Popen([*CLI, "import-register", "--landlord", "ACME", str(path),
                                      "--json"], env=env, cwd=ROOT, stdout=out, stderr=err)
            _pid, _status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        seconds = time.monotonic() - started
        rss = usage.ru_maxrss / 1024
        try:
            body = json.loads((folder / "out").read_text())
            answer = f"{body['status']} ({body['reason']}): {body['message']}"
        except ValueError:
            tail = (folder / "err").read_text(errors="replace").strip().splitlines() or [""]
            answer = "no JSON: " + tail[-1]
        print(f"{label:26} {path.stat().st_size / 1e6:8.1f} {seconds:8.1f} {rss:12.0f}  "
              f"{answer}")
        path.unlink()
    if args.keep:
        print(f"kept: {folder}")
    else:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
