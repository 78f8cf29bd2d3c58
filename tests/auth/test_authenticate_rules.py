"""A password logs in only the account its e-mail names, and a log-in restricted to some
roles refuses every other role (``authenticate`` in dispatch/auth/service.py)."""

from __future__ import annotations

from dispatch.auth.service import authenticate


def test_a_password_logs_in_only_the_account_of_the_email_given(db_session, create_user):
    first = create_user(role="operator", email="first@example.se", password="first pass phrase")
    second = create_user(role="operator", email="second@example.se",
                         password="second pass phrase")

    assert authenticate(db_session, "second@example.se", "second pass phrase",
                        ip=None).user == second
    assert authenticate(db_session, "first@example.se", "first pass phrase",
                        ip=None).user == first
    assert authenticate(db_session, "second@example.se", "first pass phrase",
                        ip=None).reason == "invalid"


def test_a_login_restricted_to_some_roles_refuses_the_others(db_session, create_user,
                                                             create_landlord):
    create_user(role="landlord", email="kontakt@example.se", password="a long pass phrase",
                landlord=create_landlord())
    operator = create_user(role="operator", email="op@example.se", password="a long pass phrase")

    refused = authenticate(db_session, "kontakt@example.se", "a long pass phrase", ip=None,
                           roles=("operator", "admin"))
    allowed = authenticate(db_session, "op@example.se", "a long pass phrase", ip=None,
                           roles=("operator", "admin"))

    assert (refused.user, refused.reason) == (None, "invalid")
    assert allowed.user == operator
