"""The administration commands answer in the app's language (``BABEL_DEFAULT_LOCALE``), plural
forms included, as the import command already did."""


def test_create_landlord_answers_in_swedish_with_the_plural_of_its_on_call_numbers(app, db_session):
    runner = app.test_cli_runner()
    one = runner.invoke(args=["create-landlord", "--code", "SPRAK", "--name", "Språk AB",
                              "--oncall-number", "0846500401"])
    two = runner.invoke(args=["create-landlord", "--code", "SPRAK", "--name", "Språk AB",
                              "--oncall-number", "0846500401", "--oncall-number", "0846500402"])
    assert one.exit_code == 0 and one.output == "hyresvärd SPRAK: Språk AB, 1 journummer\n"
    assert two.exit_code == 0 and two.output == "hyresvärd SPRAK: Språk AB, 2 journummer\n"


def test_the_commands_speak_finnish_when_that_is_the_apps_language(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "fi")
    runner = app.test_cli_runner()
    one = runner.invoke(args=["create-landlord", "--code", "KIELI", "--name", "Kieli Oy",
                              "--oncall-number", "0846500401"])
    two = runner.invoke(args=["create-landlord", "--code", "KIELI", "--name", "Kieli Oy",
                              "--oncall-number", "0846500401", "--oncall-number", "0846500402"])
    empty = runner.invoke(args=["create-patrol", "--call-sign", " "])
    assert one.output == "vuokranantaja KIELI: Kieli Oy, 1 päivystysnumero\n"
    assert two.output == "vuokranantaja KIELI: Kieli Oy, 2 päivystysnumeroa\n"
    assert empty.exit_code == 2 and "virhe: kutsutunnus ei saa olla tyhjä" in empty.output


def test_a_refused_command_says_why_in_swedish(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "--role", "operator", "--call-sign", "Jour 1"])
    assert result.exit_code == 2
    assert "fel: --call-sign gäller bara --role patrol" in result.output


def test_a_refusal_from_the_domain_is_said_in_the_apps_language(app, db_session, monkeypatch,
                                                                create_landlord):
    create_landlord(code="A", oncall_numbers=["08-123 456 78"])
    runner = app.test_cli_runner()
    taken = ["create-landlord", "--code", "B", "--name", "B", "--oncall-number", "08-12345678"]
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "fi")
    refused = runner.invoke(args=taken)
    assert refused.exit_code == 2
    assert "virhe: 08-12345678 on jo vuokranantajan A päivystysnumero" in refused.output
    bad_mail = runner.invoke(args=["create-user", "--email", "ingen-snabel-a", "--role",
                                   "operator", "--password", "x" * 16])
    assert bad_mail.exit_code == 2 and "ei sähköpostiosoite: 'ingen-snabel-a'" in bad_mail.output


def test_the_nightly_deletion_says_what_it_deleted_in_a_sentence_or_as_json(app, db_session,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_RETENTION_DAYS", 90)
    runner = app.test_cli_runner()
    sentence = runner.invoke(args=["purge-reports"]).output
    assert sentence.startswith("Raderat, äldre än 90 dagar: 0 rapporter, 0 rapportversioner,")
    assert sentence.rstrip().endswith("0 inloggningskoder, 0 utkorgsfiler.")
    assert runner.invoke(args=["purge-reports", "--json"]).output.startswith('{"reports": 0,')
    monkeypatch.setitem(app.config, "REPORT_RETENTION_DAYS", 1)
    assert runner.invoke(args=["purge-reports"]).output.startswith(
        "Raderat, äldre än 1 dag: 0 rapporter")


def test_the_invoice_and_area_commands_refuse_in_swedish_without_clicks_english_prefix(
        app, db_session):
    runner = app.test_cli_runner()
    nobody = runner.invoke(args=["portal", "import-invoices", "--landlord", "NIX", __file__])
    assert nobody.exit_code == 1 and nobody.output == "fel: ingen hyresvärd med koden NIX\n"
    neither = runner.invoke(args=["patrol-area", "Jour 404"])
    assert neither.exit_code == 2 and "fel: ingen patrull med anropssignalen" in neither.output


def test_a_morning_that_is_no_date_is_refused_in_the_apps_language(app, db_session):
    result = app.test_cli_runner().invoke(args=["send-morning-reports", "--date", "2026-13-01"])
    assert result.exit_code == 2
    assert result.output == "fel: inte ett datum (ÅÅÅÅ-MM-DD): 2026-13-01\n"
