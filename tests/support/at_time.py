"""Run ``dispatch ARGS`` with the clock set to a given instant (and running on from there):
``python -m tests.support.at_time 2026-01-15T06:20:00+01:00 scheduler``. For the fault tests
of timed work (a scheduler that was down at 06:00, a lease that runs out), which must not wait
for the wall clock."""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine


def main() -> None:
    instant = datetime.fromisoformat(sys.argv[1])
    time_machine.travel(instant, tick=True).start()
    from dispatch.cli import main as dispatch

    dispatch(args=sys.argv[2:], prog_name="dispatch")


if __name__ == "__main__":
    main()
