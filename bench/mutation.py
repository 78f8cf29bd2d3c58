"""Mutation testing as a measurement: how many small, real mistakes in the domain rules does
the test suite catch?

Each mutant is one operator applied once to one module (``ast``, see ``OPERATORS``); it is run
against the tests of that module's area (``AREAS``), one process at a time, with a time limit.
A mutant whose tests fail (or time out, or no longer import) is killed; one whose tests all
pass survived: a rule no test guards, or an equivalent mutant (the same behaviour written
otherwise). The run prints the kill rate and every survivor as ``file:line  mutation``.

It never touches the working tree it is started from: ``git archive HEAD`` (the committed
state) is unpacked into a temporary folder and every mutant is written and tested there, with
that folder first on ``PYTHONPATH``::

    .venv/bin/python bench/mutation.py --per-module 15 --seed 20
    .venv/bin/python bench/mutation.py --modules search,retention --per-module 0   # all
    .venv/bin/python bench/mutation.py --list --modules nights                       # no run

The operators (a small hand-written set rather than mutmut or cosmic-ray: see bench/README.md):
a comparison flipped at its boundary or negated (``<``/``<=``, ``>``/``>=``, ``==``/``!=``,
``in``/``not in``, ``is``/``is not``), a number constant +1 or -1, ``and``/``or``,
``True``/``False``, a quantifier's bound in a regular expression (``{6,8}``) +1 or -1, one
argument of a ``.where(...)``/``.filter(...)`` dropped (or the whole
call when it has one), and a comparison inside an SQL string flipped (``>=`` to ``>``...).
Docstrings, log calls, exception messages, type annotations, decorators and a class's field
defaults are left alone.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

# module (short name) → (file, the tests of its area, most specific first: -x stops early)
AREAS: dict[str, tuple[str, list[str]]] = {
    "dispatching": ("dispatch/jobs/dispatching.py",
                    ["tests/jobs/test_position_age.py", "tests/jobs/test_complaint_address.py",
                     "tests/jobs/test_position_range.py", "tests/jobs/test_dispatching.py",
                     "tests/callcenter/test_api.py"]),
    "delivery": ("dispatch/jobs/delivery.py",
                 ["tests/jobs/test_delivery_rules.py", "tests/field/test_security.py",
                  "tests/field/test_events.py"]),
    "premises": ("dispatch/register/premises.py",
                 ["tests/register/test_premises_rules.py", "tests/register/test_premises.py"]),
    "search": ("dispatch/register/search.py",
               ["tests/register/test_search_rules.py", "tests/register/test_search.py"]),
    "retention": ("dispatch/reports/retention.py",
                  ["tests/reports/test_retention_default.py",
                   "tests/reports/test_expiring_rules.py", "tests/reports/test_retention.py"]),
    "nights": ("dispatch/reports/nights.py",
               ["tests/reports/test_nights_rules.py", "tests/reports/test_morning_mail.py",
                "tests/reports/test_retention.py",
                "tests/reports/test_reading.py"]),
    "morning": ("dispatch/reports/morning.py",
                ["tests/reports/test_morning_rules.py", "tests/reports/test_morning_send_bound.py",
                 "tests/reports/test_morning_mail.py", "tests/reports/test_retention.py"]),
    "rows": ("imports/rows.py",
             ["tests/imports/test_row_rules.py", "tests/imports/test_formats.py",
              "tests/imports/test_rules.py", "tests/imports/test_bad_row_share.py"]),
    "phones_fast": ("imports/phones_fast.py", ["tests/imports/test_fast_paths_agree.py"]),
    "auth": ("dispatch/auth/service.py",
             ["tests/auth/test_authenticate_rules.py", "tests/auth/test_lockout.py",
              "tests/auth/test_auth.py",
              "tests/auth/test_csrf_bearer.py"]),
}

# The mutations issue #20 found unguarded (its table), as text replacements: ``--table`` runs
# each against its area's tests; every one must be killed. (The first row, delivery.acknowledge
# without its patrol filter, is guarded by the tests of issue #14.)
TABLE: list[tuple[str, str, str, list[str]]] = [
    ("dispatch/jobs/delivery.py",
     "query = select(Delivery).where(Delivery.patrol_id == patrol_id)",
     "query = select(Delivery)", AREAS["delivery"][1] + ["tests/field/test_security.py"]),
    ("dispatch/register/search.py", "_NUMBER_BONUS = 20", "_NUMBER_BONUS = 0",
     AREAS["search"][1]),
    ("dispatch/register/search.py", "_STREET_CUTOFF = 60", "_STREET_CUTOFF = 40",
     AREAS["search"][1]),
    ("dispatch/core/settings.py", 'env_int("REPORT_RETENTION_DAYS", 90)',
     'env_int("REPORT_RETENTION_DAYS", 91)', AREAS["retention"][1]),
    ("imports/phones_fast.py", r"[1-9]\d{6,8}", r"[1-9]\d{4,8}", AREAS["phones_fast"][1]),
    ("imports/apply.py", "out.skipped > MAX_BAD_SHARE", "out.skipped >= MAX_BAD_SHARE",
     ["tests/imports/test_bad_row_share.py", "tests/imports/test_rules.py"]),
    ("dispatch/jobs/dispatching.py", "AND pp.lat IS NOT NULL AND pp.position_at >= {mark}",
     "AND pp.lat IS NOT NULL AND pp.position_at > {mark}", AREAS["dispatching"][1]),
]

_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
         ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
         ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Is: "is",
           ast.IsNot: "is not"}
_FILTERS = {"where", "filter", "filter_by"}
_SQL_OPS = [(" >= ", " > "), (" <= ", " < "), (" > ", " >= "), (" < ", " <= "),
            (" = ", " <> ")]
_SQL_WORDS = re.compile(r"\b(SELECT|UPDATE|DELETE|WHERE|AND)\b")
_QUANTIFIER = re.compile(r"(?<!\\)\{(\d+)(?:,(\d+))?\}")  # {m} or {m,n} in a pattern
_QUIET_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "echo", "_",
                "gettext", "lazy_gettext", "ngettext"}


@dataclass(frozen=True)
class Mutant:
    module: str
    path: str
    line: int
    description: str
    index: int  # which candidate of the module (its place in walk order)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, broken (tests could not run), survived
    seconds: float
    detail: str = ""


# -- finding and applying mutations ----------------------------------------------------------


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, messages of logs/errors."""
    skip: set[int] = set()

    def all_of(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                all_of(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            all_of(node.returns)
            for arg in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                        node.args.vararg, node.args.kwarg):
                if arg is not None:
                    all_of(arg.annotation)
        elif isinstance(node, ast.AnnAssign):
            all_of(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:  # @dataclass(frozen=True): declarations
                all_of(decorator)
        if isinstance(node, ast.ClassDef):  # a dataclass's field defaults: shapes, not rules
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign):
                    all_of(statement.value)
        elif isinstance(node, ast.Raise):
            all_of(node.exc)
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", "")
            if name in _QUIET_CALLS:
                all_of(node)
        elif isinstance(node, ast.Assert):
            all_of(node)
    return skip


def candidates(source: str) -> list[tuple[int, str, callable]]:
    """Every mutation of ``source``: (line, description, apply(tree copy) → None). ``apply``
    finds its node again by walk position, so it works on a fresh parse of the same text."""
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    found: list[tuple[int, str, callable]] = []
    for position, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _FLIP:
                    new = _FLIP[type(op)]
                    found.append((line, f"{_SYMBOL[type(op)]} → {_SYMBOL[new]}",
                                  _set_op(position, k, new)))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            found.append((line, f"{type(node.op).__name__.lower()} → {new.__name__.lower()}",
                          _set_attr(position, "op", new)))
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                found.append((line, f"{value} → {not value}", _set_attr(position, "value",
                                                                           not value)))
            elif isinstance(value, (int, float)):
                for delta in (1, -1):
                    found.append((line, f"{value!r} → {value + delta!r}",
                                  _set_attr(position, "value", value + delta)))
            elif isinstance(value, str) and _SQL_WORDS.search(value):
                for old, new in _SQL_OPS:
                    if old in value:
                        found.append((line, f"SQL '{old.strip()}' → '{new.strip()}'",
                                      _set_attr(position, "value", value.replace(old, new, 1))))
            elif isinstance(value, str):
                for match in _QUANTIFIER.finditer(value):
                    for group in (1, 2):
                        bound = match.group(group)
                        if bound is None:
                            continue
                        for delta in (1, -1):
                            if int(bound) + delta < 0:
                                continue
                            new = (value[:match.start(group)] + str(int(bound) + delta)
                                   + value[match.end(group):])
                            found.append((line, f"regex {match.group(0)}: {bound} → "
                                          f"{int(bound) + delta}",
                                          _set_attr(position, "value", new)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _FILTERS:
            arguments = len(node.args) + len(node.keywords)
            if arguments == 1:
                found.append((line, f".{node.func.attr}(...) removed", _drop_call(position)))
            elif arguments > 1:
                for k in range(arguments):
                    found.append((line, f".{node.func.attr}(...) without argument {k + 1}",
                                  _drop_argument(position, k)))
    return found


def _node_at(tree: ast.AST, position: int) -> ast.AST:
    for i, node in enumerate(ast.walk(tree)):
        if i == position:
            return node
    raise IndexError(position)


def _set_op(position: int, k: int, new):
    def apply(tree):
        _node_at(tree, position).ops[k] = new()
    return apply


def _set_attr(position: int, name: str, value):
    def apply(tree):
        node = _node_at(tree, position)
        setattr(node, name, value() if isinstance(value, type) else value)
    return apply


def _drop_argument(position: int, k: int):
    def apply(tree):
        node = _node_at(tree, position)
        if k < len(node.args):
            del node.args[k]
        else:
            del node.keywords[k - len(node.args)]
    return apply


def _drop_call(position: int):
    """``x.where(a)`` → ``x``: the call node's place is taken by its receiver."""
    def apply(tree):
        target = _node_at(tree, position)
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is target:
                    setattr(parent, field, target.func.value)
                    return
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        if item is target:
                            value[i] = target.func.value
                            return
    return apply


def mutated_source(source: str, apply) -> str:
    tree = ast.parse(source)
    apply(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


# -- running ---------------------------------------------------------------------------------


def unpack_head(into: Path) -> None:
    """The committed tree (``git archive HEAD``), never the working tree others edit."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def run_tests(tree: Path, tests: list[str], timeout: float, *, first_failure: bool = True,
              deselect: tuple[str, ...] = ()) -> tuple[str, float, str]:
    tests = [t for t in tests if (tree / t).exists()]  # a test file HEAD does not have yet
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)}
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTEST_ADDOPTS", None)
    command = [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
               "-o", f"timeout={int(timeout)}", *(["-x"] if first_failure else []),
               *(f"--deselect={test}" for test in deselect), *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    seconds = time.monotonic() - start
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode == 0:
        return "survived", seconds, tail
    if done.returncode == 1:
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
        return "killed", seconds, failed[0] if failed else tail
    return "broken", seconds, tail  # usage error, collection error, interrupted


def _forget_bytecode(path: Path) -> None:
    """A mutant may keep the file's size and mtime second ("60" → "59"): its cached bytecode
    would be taken for the new source."""
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", default=",".join(AREAS),
                        help=f"comma-separated, of: {', '.join(AREAS)}")
    parser.add_argument("--per-module", type=int, default=15,
                        help="mutants sampled per module (0: all of them)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds for one mutant's test run (a hang is a kill)")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants only")
    parser.add_argument("--indices", help="run exactly these candidates (#n of the listing) "
                        "of the one module given, instead of a sample")
    parser.add_argument("--json", type=Path, help="also write the outcomes here")
    parser.add_argument("--match", help="run the candidates of the one module given that are "
                        "'LINE DESCRIPTION' (as printed), ';'-separated, instead of a sample")
    parser.add_argument("--deselect", action="append", default=[],
                        help="a test id to leave out (one failing without any mutation)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the unmutated run of each area (for re-running survivors)")
    parser.add_argument("--table", action="store_true",
                        help="run the mutations of issue #20's table instead of a sample")
    args = parser.parse_args(argv)
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    unknown = [m for m in modules if m not in AREAS]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}")

    if args.table:
        return run_table(args.timeout)
    workdir = Path(tempfile.mkdtemp(prefix="mut-"))
    outcomes: list[Outcome] = []
    started = time.monotonic()
    try:
        unpack_head(workdir)
        for module in modules:
            relative, tests = AREAS[module]
            path = workdir / relative
            original = path.read_text(encoding="utf-8")
            found = candidates(original)
            rng = random.Random(f"{args.seed}:{module}")
            picked = sorted(range(len(found)), key=lambda _: rng.random())
            picked = sorted(picked[:args.per_module] if args.per_module else picked)
            if args.indices:
                picked = [int(i) for i in args.indices.split(",")]
            if args.match:
                wanted = [w.strip() for w in args.match.split(";") if w.strip()]
                picked = [i for i, (line, description, _) in enumerate(found)
                          if f"{line} {description}" in wanted]
            mutants = [Mutant(module, relative, found[i][0], found[i][1], i) for i in picked]
            print(f"\n{module}: {relative}, {len(found)} mutations, {len(mutants)} sampled; "
                  f"tests: {' '.join(tests)}", flush=True)
            if args.list:
                for m in mutants:
                    print(f"  #{m.index:<4} {m.path}:{m.line}  {m.description}")
                continue
            # The unmutated module, written back the way mutants are (ast.unparse), must pass.
            path.write_text(mutated_source(original, lambda tree: None), encoding="utf-8")
            _forget_bytecode(path)
            status, seconds, detail = ("survived", 0.0, "") if args.no_baseline else run_tests(
                workdir, tests, args.timeout, first_failure=False, deselect=args.deselect)
            if status != "survived":
                print(f"  baseline: {status} ({detail}) — skipping {module}", flush=True)
                path.write_text(original, encoding="utf-8")
                continue
            print(f"  baseline passes in {seconds:.0f} s", flush=True)
            try:
                for mutant in mutants:
                    path.write_text(mutated_source(original, found[mutant.index][2]),
                                    encoding="utf-8")
                    _forget_bytecode(path)
                    status, seconds, detail = run_tests(workdir, tests, args.timeout,
                                                        deselect=args.deselect)
                    outcomes.append(Outcome(mutant, status, seconds, detail))
                    print(f"  {status:8} {seconds:5.0f} s  #{mutant.index:<4} {mutant.path}:"
                          f"{mutant.line}  {mutant.description}  {detail}", flush=True)
            finally:
                path.write_text(original, encoding="utf-8")
                _forget_bytecode(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.list:
        return 0
    return report(outcomes, time.monotonic() - started, args.json)


def run_table(timeout: float) -> int:
    """Each of TABLE's mutations on a copy of HEAD; 1 if any survives."""
    workdir = Path(tempfile.mkdtemp(prefix="mut-"))
    survived = 0
    try:
        unpack_head(workdir)
        for relative, old, new, tests in TABLE:
            path = workdir / relative
            original = path.read_text(encoding="utf-8")
            if original.count(old) != 1:
                print(f"  not found once: {relative}  {old!r}")
                survived += 1
                continue
            path.write_text(original.replace(old, new), encoding="utf-8")
            _forget_bytecode(path)
            try:
                status, seconds, detail = run_tests(workdir, tests, timeout)
            finally:
                path.write_text(original, encoding="utf-8")
                _forget_bytecode(path)
            survived += status == "survived"
            print(f"  {status:8} {seconds:5.0f} s  {relative}  {old!r} → {new!r}  {detail}",
                  flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"issue #20's table: {len(TABLE) - survived} of {len(TABLE)} killed")
    return 1 if survived else 0


def report(outcomes: list[Outcome], seconds: float, json_path: Path | None) -> int:
    killed = [o for o in outcomes if o.status != "survived"]
    survivors = [o for o in outcomes if o.status == "survived"]
    print(f"\n{'module':12} {'mutants':>7} {'killed':>6}")
    for module in dict.fromkeys(o.mutant.module for o in outcomes):
        mine = [o for o in outcomes if o.mutant.module == module]
        print(f"{module:12} {len(mine):7} {sum(o.status != 'survived' for o in mine):6}")
    rate = len(killed) / len(outcomes) if outcomes else 0.0
    print(f"\nkilled {len(killed)} of {len(outcomes)} ({rate:.0%}) in {seconds / 60:.1f} min; "
          f"timeouts {sum(o.status == 'timeout' for o in outcomes)}, "
          f"broken {sum(o.status == 'broken' for o in outcomes)}")
    if survivors:
        print("survivors:")
        for o in survivors:
            print(f"  #{o.mutant.index:<4} {o.mutant.path}:{o.mutant.line}  "
                  f"{o.mutant.description}")
    if json_path:
        json_path.write_text(json.dumps([{**asdict(o.mutant), "status": o.status,
                                          "seconds": round(o.seconds, 1), "detail": o.detail}
                                         for o in outcomes], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
