"""The address search's index as files, and the warmer that keeps each web process's current.

No web process builds the index in a request, nor in its own interpreter: a build reads every
active object (seconds of CPU for millions), and under gunicorn's gevent worker that would
stall every websocket of the process. So the warmer (a greenlet under gevent, a thread under
``dispatch run``) runs ``python -m dispatch.register.index_files FOLDER`` as a child process,
which reads the registers in one go and writes the index's arrays (``search.IndexBuilder``) as
``.npy`` files into a folder named by the database and the register state, under
``SEARCH_INDEX_DIR`` (default ``<instance>/search-index``). The web process maps those files
read-only (numpy ``mmap_mode="r"``), makes the few small Python tables (street names, orter,
landlord codes), and swaps the new index in whole (``AddressSearch.swap``); the old one serves
every search until then. Web processes on one machine that share the folder share the files:
the first to need a state builds it (under a file lock), the others map what it wrote, and the
page cache holds one copy of the big arrays for all of them.

A new register version is noticed in three ways: every search reads the landlords' register
versions (one small query, as it always has) and wakes the warmer when they differ from its
index's; the warmer looks itself every ``SEARCH_INDEX_POLL_S`` seconds, so an idle process is
current too; and with ``REDIS_URL`` (the message queue of several web processes) a process
that has swapped a new index in says so on the channel ``CHANNEL``, which wakes every other
process's warmer at once (it then maps the files already built). The importer is not
involved: the versions it writes are the announcement. A process that cannot reach Redis
still has its own searches and its poll.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dispatch.core.extensions import db, socketio
from dispatch.register.search import (
    AddressSearch,
    RegisterIndex,
    address_search,
    build_arrays,
    register_state,
)

log = logging.getLogger(__name__)
URL_VARIABLE = "DISPATCH_SEARCH_INDEX_DATABASE_URL"  # the child's database (not on its argv)
CHANNEL = "dispatch:search-index"  # Redis: "a new register state is indexed"
KEEP_OLD_S = 600  # an old index's files stay this long: another process may still be mapping


def index_folder(app) -> Path:
    """Where the index files live: ``SEARCH_INDEX_DIR`` or ``<instance>/search-index``."""
    folder = app.config.get("SEARCH_INDEX_DIR")
    return Path(folder) if folder else Path(app.instance_path) / "search-index"


def _database_tag(url: str) -> str:
    """Part of a folder's name, so that two databases never share an index (not the URL
    itself: it may hold a password)."""
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def index_name(url: str, state: str) -> str:
    return f"{_database_tag(url)}-{state}"


def write_index(folder: Path, name: str, arrays: dict[str, np.ndarray], state: str) -> Path:
    """Write ``arrays`` as ``folder/name/*.npy`` all at once (a rename), so that a reader
    sees the whole index or none."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.{os.getpid()}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for key, values in arrays.items():
        np.save(partial / f"{key}.npy", np.ascontiguousarray(values), allow_pickle=False)
    (partial / "state").write_text(state)
    try:
        partial.rename(target)
    except OSError:  # another process wrote it first: the same index
        shutil.rmtree(partial, ignore_errors=True)
    return target


def read_index(path: Path, pause=None) -> RegisterIndex:
    """The index in ``path``, its arrays mapped read-only (shared with every process that maps
    them)."""
    arrays = {}
    for file in sorted(path.glob("*.npy")):
        try:
            # A plain ndarray over the mapping: numpy's memmap class costs microseconds
            # on every slice, and a search takes dozens.
            arrays[file.stem] = np.load(file, mmap_mode="r", allow_pickle=False).view(
                np.ndarray)
        except ValueError:  # an empty array cannot be mapped
            arrays[file.stem] = np.load(file, allow_pickle=False)
        if pause:
            pause()
    return RegisterIndex.from_arrays(arrays, (path / "state").read_text(), pause=pause)


def build_index_files(url: str, folder: Path) -> str:
    """Build the index of the registers as the database at ``url`` holds them now into
    ``folder`` (unless there already); the folder's name."""
    from sqlalchemy import create_engine

    folder.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                # One snapshot: the versions and the rows of the same moment.
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            name = index_name(url, register_state(connection))
            if (folder / name).is_dir():
                return name
            with (folder / f".{name}.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one build of a state per machine
                if (folder / name).is_dir():
                    return name
                state, arrays = build_arrays(connection)
                name = index_name(url, state)
                write_index(folder, name, arrays, state)
            return name
    finally:
        engine.dispose()


class Warmer:
    """Keeps ``search``'s index current in the background (see the module's docstring)."""

    def __init__(self, app, search: AddressSearch):
        self.app, self.search = app, search
        self.folder = index_folder(app)
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.poll_s = max(0.1, float(app.config.get("SEARCH_INDEX_POLL_S") or 5))
        self.started = time.monotonic()
        self.ready_after_s: float | None = None
        self._wake = threading.Event()
        self.stopped = threading.Event()  # ends the listener (tests)

    def notice(self, state: str) -> None:
        """A search saw registers newer than its index: look now, not at the next poll."""
        self._wake.set()

    def listen(self) -> None:
        """Wake the warmer whenever another process says it indexed a new state (with
        ``REDIS_URL``; reconnects after a lost connection, the poll covering the gap)."""
        import redis

        failed = False
        while not self.stopped.is_set():
            try:
                pubsub = redis.Redis.from_url(self.app.config["REDIS_URL"]).pubsub(
                    ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                failed = False
                while not self.stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._wake.set()
                pubsub.close()
            except Exception as exc:
                if not failed:
                    log.warning("search index: no message queue; new registers are found by "
                                "polling", extra={"error": str(exc)[:300]})
                failed = True
                time.sleep(self.poll_s)

    def _announce(self, state: str) -> None:
        if not self.app.config.get("REDIS_URL"):
            return
        import redis

        try:
            redis.Redis.from_url(self.app.config["REDIS_URL"], socket_timeout=2).publish(
                CHANNEL, state)
        except redis.RedisError as exc:
            log.warning("search index: could not announce a new index",
                        extra={"error": str(exc)[:300]})

    def run(self) -> None:
        failed = False
        while True:
            try:
                self.refresh()
                failed = False
            except Exception:
                if not failed:  # once per outage, not at every poll
                    log.exception("search index: build failed; the old index keeps serving")
                failed = True
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def refresh(self) -> bool:
        """Build and swap in the index of the registers as they are now, if that is not the
        index serving; whether it swapped."""
        with self.app.app_context():
            try:
                state = register_state(db.session)
            finally:
                db.session.remove()
        current = self.search.index
        if current is not None and current.version == state:
            return False
        began = time.monotonic()
        path = self.folder / index_name(self.url, state)
        if not path.is_dir():
            done = subprocess.run(
                [sys.executable, "-m", "dispatch.register.index_files", str(self.folder)],
                env={**os.environ, URL_VARIABLE: self.url}, capture_output=True, text=True,
                stdin=subprocess.DEVNULL)
            if done.returncode:
                raise RuntimeError(f"index build exited {done.returncode}: {done.stderr[-2000:]}")
            path = self.folder / done.stdout.split()[-1]
        index = read_index(path, pause=_pause)
        self.search.swap(index)
        if self.ready_after_s is None:
            self.ready_after_s = time.monotonic() - self.started
        log.info("search index ready", extra={
            "objects": index.objects, "streets": len(index.streets),
            "landlords": len(index.landlords), "seconds": round(time.monotonic() - began, 2)})
        self._tidy(keep=path.name)
        self._announce(index.version)
        return True

    def _tidy(self, keep: str) -> None:
        """Remove this database's older index folders once no process can still be opening
        them (a process that mapped one keeps its pages: unlinking does not take them)."""
        tag = _database_tag(self.url)
        cutoff = time.time() - KEEP_OLD_S
        for path in [*self.folder.glob(f"{tag}-*"), *self.folder.glob(f".{tag}-*")]:
            if keep in path.name or path.stat().st_mtime >= cutoff:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _pause() -> None:
    time.sleep(0)  # under gevent: let the other greenlets run; in a thread: the GIL


def start_warming(app, search: AddressSearch = address_search) -> Warmer:
    """Build ``search``'s index in the background from now on (a web process, at start)."""
    if search.warmer is None:
        search.warmer = Warmer(app, search)
        socketio.start_background_task(search.warmer.run)
        if app.config.get("REDIS_URL"):
            socketio.start_background_task(search.warmer.listen)
    return search.warmer


def main(argv: list[str] | None = None) -> int:
    """``python -m dispatch.register.index_files FOLDER``: build, print the folder's name."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not os.environ.get(URL_VARIABLE):
        print(f"usage: {URL_VARIABLE}=URL python -m dispatch.register.index_files FOLDER",
              file=sys.stderr)
        return 2
    print(build_index_files(os.environ[URL_VARIABLE], Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
