"""``dispatch create-token``: the contract's form still prints a working bearer token; with
``--call-sign`` a patrol token is bound to one car, the one car it may be on /field (#14)."""

from sqlalchemy import select

from dispatch.auth.service import token_digest, user_for_token
from dispatch.auth.sockets import bound_call_sign
from dispatch.jobs.patrols import upsert_patrol
from dispatch.models import ApiToken


def _row(db_session, token):
    return db_session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))


def test_create_token_as_the_contract_has_it_still_prints_a_token(runner, db_session, client):
    result = runner.invoke(args=["create-token", "--role", "patrol", "--email", "bil@x.se"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert user_for_token(db_session, token).email == "bil@x.se"
    assert bound_call_sign(_row(db_session, token)) is None  # no car
    assert client.get("/api/v1/patrols",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_create_token_with_a_call_sign_binds_the_token_to_that_car(runner, db_session):
    upsert_patrol(db_session, call_sign="Jour 12", name="Jour 12")
    result = runner.invoke(args=["create-token", "--role", "patrol", "--call-sign", "Jour 12"])
    assert result.exit_code == 0, result.output
    row = _row(db_session, result.output.strip())
    assert (row.kind, bound_call_sign(row)) == ("car", "Jour 12")


def test_create_token_refuses_a_call_sign_it_cannot_bind(runner, db_session):
    upsert_patrol(db_session, call_sign="Jour 12", name="Jour 12")
    # The app's language is Swedish (tests/admin/test_cli_language.py).
    for args, says in ((["--role", "patrol", "--call-sign", "Jour 99"], "ingen patrullbil"),
                       (["--role", "operator", "--call-sign", "Jour 12"], "bara --role patrol"),
                       (["--role", "patrol", "--call-sign", "Jour 12", "--label", "x"],
                        "utelämna --label")):
        result = runner.invoke(args=["create-token", *args])
        assert result.exit_code == 2 and says in result.output, (args, result.output)
