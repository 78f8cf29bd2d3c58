"""``dispatch bankid-test-server`` (issue 15): the local BankID service as a command, with its
certificates made on first start, the settings to paste printed, and an auto-signing user."""

from __future__ import annotations

import subprocess

from dispatch.auth.identity import Completed, Pending
from dispatch.auth.identity.bankid import BankIDProvider
from tests.support.servers import BIN, free_port, wait_until


def test_the_command_serves_bankid_and_prints_the_settings_for_the_web_process(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "dispatch"), "bankid-test-server", "--port", str(port), "--certs",
         str(tmp_path / "certs"), "--auto-sign-after", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={"DISPATCH_INSTANCE": str(tmp_path), "PATH": str(BIN)})
    try:
        settings = {}
        while "BANKID_CA" not in settings:
            line = process.stdout.readline()
            assert line, "the command ended before printing its settings"
            name, sep, value = line.strip().partition("=")
            if sep and name.startswith("BANKID_"):
                settings[name] = value
        assert settings["BANKID_URL"] == f"https://127.0.0.1:{port}/rp/v6.0/"
        provider = BankIDProvider.from_config(settings)
        try:
            order = provider.start("192.0.2.10")
            assert isinstance(provider.poll(order.order_ref), Pending)

            def completed():
                outcome = provider.poll(order.order_ref)
                return outcome if isinstance(outcome, Completed) else None

            done = wait_until(completed, timeout=10, interval=0.2)
            assert done.identity.number == "199001012385"
        finally:
            provider.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
