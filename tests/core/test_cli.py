"""The ``dispatch`` command line (../shared/CONTRACT.md)."""

import re
import subprocess
import sys

from sqlalchemy import select

from dispatch.models import User
from dispatch.register.landlords import get_landlord

CONTRACT_COMMANDS = [
    "run",
    "scheduler",
    "db",
    "demo",
    "create-landlord",
    "import-register",
    "create-user",
    "create-token",
    "send-morning-reports",
    "purge-reports",
]


def test_console_script_lists_every_contract_command(tmp_path):
    env = {"DISPATCH_INSTANCE": str(tmp_path), "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", "from dispatch.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    listed = re.findall(r"^  ([a-z-]+)\s", out, re.M)
    assert set(CONTRACT_COMMANDS) <= set(listed)


def test_create_landlord_normalises_numbers_and_same_code_updates(runner, db_session):
    result = runner.invoke(
        args=[
            "create-landlord",
            "--code",
            "acme",
            "--name",
            "Acme",
            "--oncall-number",
            "08-123 456 78",
            "--contact",
            "Jour@Acme.se",
        ]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        args=[
            "create-landlord",
            "--code",
            "ACME",
            "--name",
            "Acme Bostäder AB",
            "--oncall-number",
            "+46812345678",
            "--oncall-number",
            "0046 8 7654321",
        ]
    )
    assert again.exit_code == 0, again.output
    landlord = get_landlord(db_session, "acme")
    assert landlord.name == "Acme Bostäder AB"
    assert sorted(n.number for n in landlord.oncall_numbers) == ["+46812345678", "+4687654321"]
    contact = db_session.scalar(select(User).where(User.email == "jour@acme.se"))
    assert (contact.role, contact.landlord_id, contact.password_hash) == (
        "landlord",
        landlord.id,
        None,
    )


def test_an_oncall_number_belongs_to_one_landlord_only(runner, create_landlord):
    create_landlord(code="A", oncall_numbers=["08-123 456 78"])
    result = runner.invoke(
        args=["create-landlord", "--code", "B", "--name", "B", "--oncall-number", "08-12345678"]
    )
    assert result.exit_code == 2
    assert "är redan journummer för A" in result.output


def test_create_landlord_rejects_a_number_that_is_not_one(runner):
    result = runner.invoke(
        args=["create-landlord", "--code", "B", "--name", "B", "--oncall-number", "abc"]
    )
    assert result.exit_code == 2 and "inte ett telefonnummer" in result.output


def test_create_user_generates_and_prints_a_password_when_none_given(runner, auth, create_landlord):
    create_landlord(code="ACME")
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "landlord",
            "--email",
            "Kontakt@Acme.se",
            "--landlord",
            "ACME",
        ]
    )
    assert result.exit_code == 0, result.output
    password = re.search(r"lösenord: (\S+)", result.output).group(1)
    assert auth.login("kontakt@acme.se", password=password).status_code == 302


def test_create_user_landlord_role_needs_an_existing_landlord(runner):
    assert (
        runner.invoke(args=["create-user", "--role", "landlord", "--email", "a@b.se"]).exit_code
        == 2
    )
    missing = runner.invoke(
        args=["create-user", "--role", "landlord", "--email", "a@b.se", "--landlord", "NOPE"]
    )
    assert missing.exit_code == 2 and "ingen hyresvärd" in missing.output


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["create-user", "--role", "operator", "--email", "a@b.se", "--password", "short"]
    )
    assert result.exit_code == 2 and "minst 10 tecken" in result.output


def test_create_token_prints_a_token_that_opens_the_api(runner, client):
    result = runner.invoke(args=["create-token", "--role", "operator", "--email", "switch@x.se"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (me["email"], me["role"]) == ("switch@x.se", "operator")


def test_create_token_refuses_a_role_the_user_does_not_have(runner, create_user):
    create_user(role="patrol", email="car@x.se")
    result = runner.invoke(args=["create-token", "--role", "admin", "--email", "car@x.se"])
    assert result.exit_code == 2 and "rollen patrol, inte admin" in result.output
