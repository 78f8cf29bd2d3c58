"""The accessibility statement (issue 18): open to everyone in every language, linked from
the footers, and its feedback form reaches staff by mail; bad input or a mail failure keeps
what was typed and says what is wrong next to the field."""

from __future__ import annotations

import pytest

from tests.support.servers import free_port

pytest_plugins = ["tests.support.reports"]


@pytest.mark.parametrize("lang, heading, authority", [
    ("sv", "Tillgänglighetsredogörelse", "Myndigheten för digital förvaltning (Digg)"),
    ("fi", "Saavutettavuusseloste", "Ruotsin digitaalisen hallinnon virasto (Digg)"),
    ("en", "Accessibility statement", "The Agency for Digital Government (Digg)"),
])
def test_the_statement_is_public_and_names_the_supervisory_authority(client, lang, heading,
                                                                     authority):
    page = client.get(f"/tillganglighet?lang={lang}").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
    assert authority in page
    assert 'href="https://www.digg.se/tdosanmalan"' in page
    assert "WCAG 1.3.1" in page  # what is not yet accessible: the PDFs


@pytest.mark.parametrize("path", ["/login", "/portal/login", "/bostad/", "/field/"])
def test_every_layout_links_the_statement_from_its_footer(client, path):
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert 'href="/tillganglighet"' in page, path


def _send(client, auth, **fields):
    token = auth.csrf_token("/tillganglighet")
    return client.post("/tillganglighet", data={"csrf_token": token, **fields})


def test_feedback_is_mailed_to_the_staff_address_with_a_reply_address(client, auth, app, smtp):
    app.config["ACCESSIBILITY_FEEDBACK_TO"] = "tillganglighet@acme.se"
    response = _send(client, auth, where="Bostadskön", message="Knappen Sök läses inte upp.",
                     email="tove@example.se")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tillganglighet#feedback")
    [mail] = smtp.messages
    assert mail["To"] == "tillganglighet@acme.se"
    assert mail["Reply-To"] == "tove@example.se"
    assert mail["Subject"] == "Synpunkter på tillgängligheten"
    body = mail.get_body(("plain",)).get_content()
    assert "Knappen Sök läses inte upp." in body and "Bostadskön" in body
    page = client.get("/tillganglighet").get_data(as_text=True)
    assert "Tack. Ditt meddelande har nått vår personal." in page


def test_feedback_without_a_message_is_refused_next_to_the_field_and_keeps_the_rest(
        client, auth, smtp):
    response = _send(client, auth, where="Mina sidor", message="  ", email="inte-en-adress")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="message-error"' in page and "Skriv vad som inte fungerade." in page
    assert 'id="email-error"' in page
    assert 'value="Mina sidor"' in page and 'value="inte-en-adress"' in page
    assert smtp.messages == []


def test_feedback_that_cannot_be_mailed_says_so_and_keeps_the_text(client, auth, app):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    response = _send(client, auth, message="Kontrasten är för låg i mörkt läge.")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "kunde inte skickas just nu" in page
    assert "Kontrasten är för låg i mörkt läge." in page
