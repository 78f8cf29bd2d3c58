"""Benchmark: the housing queue (issue 16): ``.venv/bin/python bench/queue.py [options]`` runs
``bench/queue_bench.py`` (its docstring says what it measures; ``--help`` lists the options).

This file has the standard library's module name ``queue``. Started as a script it takes its
folder off ``sys.path`` and runs the benchmark; imported as ``queue`` (by a script started
from ``bench/``, whose folder is then first on the path) it stands in for the standard
library's ``queue`` module, so that requests, SQLAlchemy's pool and the other benchmarks work.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    import runpy

    runpy.run_path(str(HERE / "queue_bench.py"), run_name="__main__")
else:
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        __name__, Path(sysconfig.get_paths()["stdlib"]) / "queue.py")
    _stdlib = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_stdlib)
    sys.modules[__name__] = _stdlib
    globals().update({k: v for k, v in vars(_stdlib).items() if not k.startswith("__")})
