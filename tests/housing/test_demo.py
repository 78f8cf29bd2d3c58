"""``scripts/demo`` names the housing queue's landlord: the demo has three landlords, and with
several the queue needs ``HOUSING_LANDLORD`` (else ``/bostad/`` answers 404)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dispatch.demo import LANDLORDS

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo"


def _demo_housing_landlord(**env) -> str:
    """What ``scripts/demo`` exports as HOUSING_LANDLORD, from its own line, in this
    environment (the rest of the script sets up and starts servers)."""
    line = next(x for x in DEMO.read_text().splitlines()
                if x.startswith("export HOUSING_LANDLORD="))
    environment = {k: v for k, v in os.environ.items() if k != "HOUSING_LANDLORD"} | env
    return subprocess.run(["bash", "-c", f'{line}\necho "$HOUSING_LANDLORD"'], env=environment,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_the_demo_names_its_first_landlord_for_the_housing_queue_unless_one_is_set():
    assert _demo_housing_landlord() == LANDLORDS[0][0] == "STHLMHEM"
    assert _demo_housing_landlord(HOUSING_LANDLORD="NORRBO") == "NORRBO"


def test_the_demo_banner_prints_the_housing_queues_url():
    assert "$BASE_URL/bostad/" in DEMO.read_text()


def test_with_the_demos_landlords_the_queue_the_demo_names_answers(client, db_session,
                                                                   create_landlord, app,
                                                                   monkeypatch):
    for code, name, _, _ in LANDLORDS:
        create_landlord(code=code, name=name)
    monkeypatch.setitem(app.config, "HOUSING_LANDLORD", None)
    assert client.get("/bostad/").status_code == 404  # several landlords, none named
    monkeypatch.setitem(app.config, "HOUSING_LANDLORD", _demo_housing_landlord())
    page = client.get("/bostad/")
    assert page.status_code == 200 and "<h1>Intressebanken</h1>" in page.get_data(as_text=True)
