"""Issue 17's "done when": a real web process (the Procfile's gunicorn with its gevent worker,
and ``dispatch run`` with its threads; on SQLite or PostgreSQL) keeps answering address
searches from the old register while a new one is imported, then finds the new register's
addresses, and no search meanwhile takes much longer than the searches before the import."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests

from tests.support.servers import BIN, ROOT, LiveServer, wait_until

HEADER = "objektsnummer;gatuadress;postnummer;ort;lagenhetsnummer;lat;lon"
STREETS = ["Götgatan", "Drottninggatan", "Kungsgatan", "Ringvägen", "Sankt Eriksgatan",
           "Hantverkargatan", "Västra Långgatan", "Åsögatan", "Hornsgatan", "Folkungagatan",
           "Söder Mälarstrand", "Katarina Bangata", "Skånegatan", "Bondegatan", "Tjärhovsgatan",
           "Renstiernas gata"]


def register_file(path, extra: list[str] = ()):
    """16,000 flats on sixteen streets, and ``extra`` rows."""
    lines = [HEADER]
    for s, street in enumerate(STREETS):
        for number in range(1, 101):
            for flat in range(10):
                lines.append(f"L-{s}-{number}-{flat};{street} {number};118 46;Stockholm;"
                             f"{1001 + flat};59.3{s};18.0{s}")
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


class DispatchRun(LiveServer):
    """``dispatch run``, the single-process server, instead of the Procfile's web."""

    def start(self) -> DispatchRun:
        self.cli("db", "upgrade")
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [str(BIN / "dispatch"), "run", "--port", str(self.port)], env=self.env, cwd=ROOT,
            stdout=self._log_file, stderr=subprocess.STDOUT)
        try:
            wait_until(self.healthy, timeout=60)
        except BaseException:
            self.stop()
            raise
        return self


@pytest.fixture(scope="module", params=[LiveServer, DispatchRun], ids=["gunicorn", "dispatch-run"])
def server(request, tmp_path_factory):
    from tests.conftest import _fresh_database_url

    url, drop = _fresh_database_url(tmp_path_factory, "searchlive")
    live = request.param(url, tmp_path_factory.mktemp("searchlive"),
                         {"SEARCH_INDEX_POLL_S": "1"}).start()
    yield live
    live.stop()
    drop()


def timed_search(server: LiveServer, headers: dict, q: str) -> tuple[float, list[str]]:
    began = time.perf_counter()
    response = requests.get(f"{server.url}/api/v1/addresses/search", params={"q": q},
                            headers=headers, timeout=60)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.text
    return elapsed, [hit["address"] for hit in response.json()]


def test_an_import_leaves_search_answering_from_the_old_register_then_the_new_one_is_found(
        server, tmp_path):
    server.cli("create-landlord", "--code", "ACME", "--name", "Acme",
               "--oncall-number", "08-46500401")
    server.cli("import-register", "--landlord", "ACME", str(register_file(tmp_path / "a.csv")))
    headers = {"Authorization": "Bearer "
               + server.cli("create-token", "--role", "operator").strip()}

    def health() -> str:
        return requests.get(f"{server.url}/healthz", timeout=10).json()["status"]

    # The register imported after the start is noticed and indexed in the background.
    wait_until(lambda: timed_search(server, headers, "Gotgatn 12")[1][:1] == ["Götgatan 12"],
               timeout=60)
    assert wait_until(lambda: health() == "ok", timeout=60)
    baseline = sorted(timed_search(server, headers, q)[0]
                      for q in ["Gotgatn 12", "Drotninggatan 3", "Ringv. 7", "Asogatan 9"] * 8)

    new = register_file(tmp_path / "b.csv", [
        f"N-{n};Hornsgatan {n};118 20;Stockholm;1001;59.31;18.05" for n in range(300, 500)])
    importing = subprocess.Popen(
        [str(BIN / "dispatch"), "import-register", "--landlord", "ACME", str(new)],
        env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    during: list[float] = []
    while_importing = 0  # searches answered while the import process ran
    found = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        while_importing += importing.poll() is None
        elapsed, old = timed_search(server, headers, "Drotninggatan 3")
        during.append(elapsed)
        assert old[0] == "Drottninggatan 3"  # the old register answers throughout
        elapsed, hits = timed_search(server, headers, "Hornsgatn 312")
        during.append(elapsed)
        if hits[:1] == ["Hornsgatan 312"]:
            found = True
            break
        assert "Hornsgatan 312" not in hits
    output = importing.communicate(timeout=120)[0]

    assert importing.returncode == 0, output
    assert found and while_importing > 3, (found, while_importing)
    assert timed_search(server, headers, "Drotninggatan 3")[1][0] == "Drottninggatan 3"
    # Built by the process's warmer into its files (two states: before and after the import).
    assert len([p for p in (server.log.parent / "search-index").iterdir() if p.is_dir()]) >= 2
    # No search waited for the build: none much slower than the slowest before the import
    # (generous: the import and the build share this machine's CPUs with the searches). A
    # search that built the index itself, as before issue 17, took 1.4-1.9 s here with half
    # this register; the build in the background takes seconds more than that.
    worst_before = baseline[-1]
    assert max(during) < max(10 * worst_before, 1.0), (max(during), worst_before)
