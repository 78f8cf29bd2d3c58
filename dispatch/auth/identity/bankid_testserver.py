"""A local BankID service that speaks the Relying Party API v6 over HTTPS with mutual TLS, for
tests and demos (the real one cannot be reached from here): ``dispatch bankid-test-server``, and
the ``bankid_server`` fixture of tests/portal.

It answers as BankID does: ``auth`` gives ``{orderRef, autoStartToken, qrStartToken,
qrStartSecret}``; ``collect`` is ``pending`` (``outstandingTransaction``, then ``userSign`` once
the simulated user has scanned the QR code or opened the app) until the simulated user signs,
then ``complete`` with ``completionData.user``; ``cancel`` ends an order (a later ``collect``
of it is 400 ``invalidParameters``); an order nobody signs expires (``expiredTransaction``);
a second auth for the same ``requirement.personalNumber`` while one is pending is 400
``alreadyInProgress`` and cancels both, as BankID does. Errors are ``{errorCode, details}``.

The simulated user is driven through control endpoints (same mutual TLS):

* ``POST /control/scan`` ``{"qrCode": "bankid.…"}`` or ``{"orderRef": …}``: the user's app
  read the QR code (its HMAC and time are checked against the order: a wrong code answers 400
  ``invalidQr``) or was started on the same device; the order goes to ``userSign``.
* ``POST /control/sign`` ``{"orderRef"?, "qrCode"?, "personalNumber", "name", "givenName",
  "surname"}``: the user signs (scans first if not yet); the next collect is ``complete``.
* ``POST /control/fail-next`` ``{"hintCode": "certificateErr"}`` (or ``startFailed``,
  ``userCancel``, ``expiredTransaction``…): the next order fails with it at its first
  collect; ``{"errorCode": "alreadyInProgress"}``: the next auth answers that error.
* ``GET /control/orders``: the orders (for tests).

``auto_sign_after`` (the CLI's ``--auto-sign-after``) signs every order that many seconds after
its auth as ``auto_user``, for trying the portal by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

API = "/rp/v6.0/"
DEFAULT_USER = {"personalNumber": "199001012385", "name": "Testa Testsson",
                "givenName": "Testa", "surname": "Testsson"}


@dataclass(frozen=True)
class Certificates:
    """Paths of a CA and the server's and the client's certificate and key (PEM)."""

    ca: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str


def make_certificates(folder: str | Path, host: str = "127.0.0.1") -> Certificates:
    """A fresh CA and a server and a client certificate signed by it, written to ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def write_key(key, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Dispatch BankID test CA"))
          .issuer_name(name("Dispatch BankID test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))

    def issue(common: str, usage, san: list | None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(common))
                   .issuer_name(ca.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    san = [x509.DNSName("localhost")]
    try:
        san.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        san.append(x509.DNSName(host))
    server_key, server = issue("BankID test server", ExtendedKeyUsageOID.SERVER_AUTH, san)
    client_key, client = issue("Dispatch relying party", ExtendedKeyUsageOID.CLIENT_AUTH, None)
    paths = Certificates(*(str(folder / n) for n in (
        "ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem")))
    Path(paths.ca).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    Path(paths.server_cert).write_bytes(server.public_bytes(serialization.Encoding.PEM))
    write_key(server_key, Path(paths.server_key))
    Path(paths.client_cert).write_bytes(client.public_bytes(serialization.Encoding.PEM))
    write_key(client_key, Path(paths.client_key))
    return paths


@dataclass
class _Order:
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    started: float
    personal_number: str | None = None  # requirement.personalNumber, if the RP gave one
    state: str = "pending"  # pending | complete | failed | cancelled
    hint_code: str = "outstandingTransaction"
    fail_with: str | None = None
    user: dict = field(default_factory=dict)

    def answer(self) -> dict:
        if self.state == "complete":
            return {"orderRef": self.order_ref, "status": "complete", "completionData": {
                "user": self.user,
                "device": {"ipAddress": "127.0.0.1", "uhi": "OZvYM9VvyiAmG7NA5jU5zqGcVpo="},
                "bankIdIssueDate": "2026-01-01", "signature": "PD94bWwgdmVyc2lvbj0iMS4wIj8+",
                "ocspResponse": "MIIHfgoBAKCCB3cwggdzBgkrBgEFBQcwAQEEggdkMIIHYDCCAT"}}
        return {"orderRef": self.order_ref, "status": self.state, "hintCode": self.hint_code}


class BankIDTestService:
    """The orders and the simulated user; ``serve`` puts it on HTTPS with mutual TLS."""

    def __init__(self, *, order_ttl: float = 180.0, auto_sign_after: float | None = None,
                 auto_user: dict | None = None):
        self.order_ttl = order_ttl
        self.auto_sign_after = auto_sign_after
        self.auto_user = auto_user or DEFAULT_USER
        self.orders: dict[str, _Order] = {}
        self.next_hint: str | None = None
        self.next_error: str | None = None
        self.lock = threading.Lock()
        self.requests: list[str] = []  # the API paths called, in order (for tests)

    # --- the relying party's API -------------------------------------------------------
    def auth(self, body: dict) -> tuple[int, dict]:
        if not isinstance(body.get("endUserIp"), str):
            return 400, {"errorCode": "invalidParameters", "details": "Invalid endUserIp"}
        number = (body.get("requirement") or {}).get("personalNumber")
        if self.next_error:
            code, self.next_error = self.next_error, None
            return 400, {"errorCode": code, "details": "Order not created"}
        if number:
            busy = [o for o in self.orders.values()
                    if o.personal_number == number and o.state == "pending"]
            if busy:
                for order in busy:
                    order.state, order.hint_code = "failed", "cancelled"
                return 400, {"errorCode": "alreadyInProgress",
                             "details": "Order already in progress for pno"}
        order = _Order(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()),
                       str(uuid.uuid4()), time.monotonic(), personal_number=number)
        if self.next_hint:
            order.fail_with, self.next_hint = self.next_hint, None
        self.orders[order.order_ref] = order
        return 200, {"orderRef": order.order_ref, "autoStartToken": order.auto_start_token,
                     "qrStartToken": order.qr_start_token,
                     "qrStartSecret": order.qr_start_secret}

    def collect(self, body: dict) -> tuple[int, dict]:
        order = self.orders.get(str(body.get("orderRef")))
        if order is None or order.state == "cancelled":
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        if order.state == "pending":
            if order.fail_with:
                order.state, order.hint_code = "failed", order.fail_with
            elif time.monotonic() - order.started > self.order_ttl:
                order.state, order.hint_code = "failed", "expiredTransaction"
            elif (self.auto_sign_after is not None
                  and time.monotonic() - order.started >= self.auto_sign_after):
                self._sign(order, self.auto_user)
        return 200, order.answer()

    def cancel(self, body: dict) -> tuple[int, dict]:
        order = self.orders.get(str(body.get("orderRef")))
        if order is None or order.state != "pending":
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        order.state = "cancelled"
        return 200, {}

    # --- the simulated user ------------------------------------------------------------
    def _find(self, body: dict) -> _Order | None:
        if "qrCode" in body:
            return self._order_for_qr(str(body["qrCode"]))
        return self.orders.get(str(body.get("orderRef")))

    def _order_for_qr(self, text: str) -> _Order | None:
        parts = text.split(".")
        if len(parts) != 4 or parts[0] != "bankid" or not parts[2].isdigit():
            return None
        token, seconds, code = parts[1], int(parts[2]), parts[3]
        for order in self.orders.values():
            if order.qr_start_token != token:
                continue
            want = hmac.new(order.qr_start_secret.encode(), str(seconds).encode(),
                            hashlib.sha256).hexdigest()
            elapsed = time.monotonic() - order.started
            # The code shown must be the one of its second (a second's slack each way).
            if hmac.compare_digest(want, code) and seconds <= elapsed + 1:
                return order
        return None

    def scan(self, body: dict) -> tuple[int, dict]:
        order = self._find(body)
        if order is None:
            return 400, {"errorCode": "invalidQr", "details": "No order for this code"}
        if order.state == "pending" and not order.fail_with:
            order.hint_code = "userSign"
        return 200, {"orderRef": order.order_ref}

    def sign(self, body: dict) -> tuple[int, dict]:
        order = self._find(body)
        if order is None:
            return 400, {"errorCode": "invalidQr", "details": "No order for this code"}
        if order.state != "pending":
            return 409, {"errorCode": "notPending", "details": order.state}
        user = {k: body.get(k, DEFAULT_USER[k]) for k in DEFAULT_USER}
        self._sign(order, user)
        return 200, {"orderRef": order.order_ref}

    @staticmethod
    def _sign(order: _Order, user: dict) -> None:
        order.state, order.user = "complete", dict(user)

    def fail_next(self, body: dict) -> tuple[int, dict]:
        if body.get("errorCode"):
            self.next_error = str(body["errorCode"])
        else:
            self.next_hint = str(body.get("hintCode") or "startFailed")
        return 200, {}

    def handle(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        routes = {
            ("POST", API + "auth"): self.auth, ("POST", API + "sign"): self.auth,
            ("POST", API + "collect"): self.collect, ("POST", API + "cancel"): self.cancel,
            ("POST", "/control/scan"): self.scan, ("POST", "/control/sign"): self.sign,
            ("POST", "/control/fail-next"): self.fail_next,
        }
        if method == "GET" and path == "/control/orders":
            return 200, {"orders": [o.answer() | {"qrStartToken": o.qr_start_token}
                                    for o in self.orders.values()]}
        handler = routes.get((method, path))
        if handler is None:
            return 404, {"errorCode": "notFound", "details": "No such method"}
        with self.lock:
            if path.startswith(API):
                self.requests.append(path[len(API):])
            return handler(body)

    def serve(self, certificates: Certificates, host: str = "127.0.0.1",
              port: int = 0) -> BankIDTestServer:
        return BankIDTestServer(self, certificates, host, port)


class BankIDTestServer:
    """The service on HTTPS: a client certificate signed by the CA is required."""

    def __init__(self, service: BankIDTestService, certificates: Certificates, host: str,
                 port: int):
        self.service = service
        self.certificates = certificates
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certificates.server_cert, certificates.server_key)
        context.load_verify_locations(certificates.ca)
        context.verify_mode = ssl.CERT_REQUIRED
        owner = service

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                    if not isinstance(body, dict):
                        raise ValueError
                except ValueError:
                    status, answer = 400, {"errorCode": "invalidParameters",
                                           "details": "Invalid JSON"}
                else:
                    status, answer = owner.handle(method, self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802 (http.server's name)
                self._answer("POST")

            def do_GET(self):  # noqa: N802
                self._answer("GET")

            def log_message(self, *_args):  # quiet: tests read the service's state instead
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host, self.port = host, self.httpd.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API

    def start(self) -> BankIDTestServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                       name="bankid-test-server")
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)


def _command():
    """``dispatch bankid-test-server``: made here so that click stays out of the service."""
    import click

    @click.command("bankid-test-server")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8443, show_default=True, type=int)
    @click.option("--certs", "certs_dir", default=None,
                  help="Folder for the CA, server and client certificates (made if missing; "
                       "default: the instance folder's bankid-test/).")
    @click.option("--auto-sign-after", type=float, default=None,
                  help="Sign every order this many seconds after its auth, as the test user.")
    @click.option("--personal-number", default=DEFAULT_USER["personalNumber"],
                  show_default=True, help="The auto-signing user (an official test number).")
    @click.option("--name", default=DEFAULT_USER["name"], show_default=True)
    @click.option("--order-ttl", type=float, default=180.0, show_default=True,
                  help="Seconds until an unsigned order fails with expiredTransaction.")
    @click.option("--fail-next", "fail_next", default=None,
                  help="Make the first order fail with this hintCode (e.g. certificateErr).")
    def command(host, port, certs_dir, auto_sign_after, personal_number, name, order_ttl,
                fail_next):
        """Run a local BankID service (RP API v6, mutual TLS) for trying the tenant portal."""
        import os

        folder = Path(certs_dir or Path(os.environ.get("DISPATCH_INSTANCE", "instance"))
                      / "bankid-test")
        existing = folder / "ca.pem"
        certificates = (Certificates(*(str(folder / n) for n in (
            "ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem")))
            if existing.exists() else make_certificates(folder, host))
        given, _, family = name.partition(" ")
        service = BankIDTestService(order_ttl=order_ttl, auto_sign_after=auto_sign_after,
                                    auto_user={"personalNumber": personal_number,
                                               "name": name, "givenName": given,
                                               "surname": family})
        if fail_next:
            service.next_hint = fail_next
        server = service.serve(certificates, host, port)
        click.echo("BankID test service (RP API v6) on " + server.api_url)
        click.echo("Settings for the web process:")
        click.echo(f"  BANKID_URL={server.api_url}")
        click.echo(f"  BANKID_CERT={certificates.client_cert}")
        click.echo(f"  BANKID_KEY={certificates.client_key}")
        click.echo(f"  BANKID_CA={certificates.ca}")
        click.echo("The simulated user: POST /control/scan, /control/sign, /control/fail-next "
                   "(same client certificate).")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.httpd.server_close()

    return command


bankid_test_server_command = _command()
