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
