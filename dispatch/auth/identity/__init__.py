"""Strong identification of a person, behind one interface (issue 15).

A provider is started (``start``), then asked how it goes (``poll``) until it answers
``Completed`` with a verified ``Identity`` (the identity number in its stored form: a Swedish
personnummer in 12 digits, a Finnish henkilötunnus as written; and the name) or ``Failed`` with
a reason code (BankID's ``hintCode``/``errorCode`` names, or ours: ``invalid_identity``,
``unavailable``). ``Pending`` carries the hint code to show the user meanwhile.

* ``bankid``: BankID Relying Party API v6 through the kept client ``pybankid``, with the
  animated QR code (``qr_text``); ``bankid_testserver`` speaks the protocol locally (mutual
  TLS) for tests and demos (``dispatch bankid-test-server``).
* ``oidc``: OpenID Connect for the Finnish Trust Network brokers with Authlib (code flow with
  PKCE, nonce, state; the ID token's signature checked against the provider's JWKS).
* ``numbers``: personnummer, samordningsnummer and henkilötunnus checked with python-stdnum,
  and masked for display.
* ``messages``: what each hint code tells the user, translated.
* ``pending``: identifications under way kept on the server (a BankID order with its QR
  secret; OpenID Connect's state, nonce and PKCE verifier), the browser's session holding only
  a random id; deleted at the end, swept when expired.
* ``flow``: the browser's side (BankID's start, QR, collect, cancel; OpenID Connect's start and
  callback) as one flow that the portal's and the housing queue's routes call with their own
  session key and addresses.
Office identification is not a provider: staff record it (``dispatch.auth.tenants``).

Imports core and models only (and the libraries); no routes here (``flow`` is request code
that the blueprints' routes call).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """A verified person: ``number`` in stored form, ``country`` ``SE`` or ``FI``."""

    number: str
    name: str
    country: str

    def __repr__(self) -> str:  # never the number in a log line or a traceback
        return f"Identity(country={self.country!r})"


@dataclass(frozen=True)
class Pending:
    hint_code: str


@dataclass(frozen=True)
class Completed:
    identity: Identity


@dataclass(frozen=True)
class Failed:
    reason: str


Outcome = Pending | Completed | Failed
