"""The register import's fast phone paths give what ``phonenumbers`` gives: the one-regex path
of ``imports.phones_fast`` and its copy in the column-at-a-time first import
(``imports/first/columnar.py``), over the edge lengths, prefixes and separators."""

from __future__ import annotations

import re

import polars as pl
import pytest

from dispatch.core.phones import normalise_phone
from imports.first.columnar import PHONE_SEPARATORS, SWEDISH_PHONE
from imports.phones_fast import _SWEDISH, normalise_phone_fast

PREFIXES = ["0", "+46", "0046", "46", "00046", "+460", ""]
SEPARATED = ["070-123 45 67", "070 123 45 67", "(08) 123 45 67", "08/123.45.67", "+46 (0)8 123 45",
             "0046 70-123 45 6", "08-12 34 5", "08 - 1", "+46 8 123 456 789 0", "070\u00a01234567"]


def _numbers() -> list[str]:
    """Every prefix with a national number of 3 to 12 digits, starting with each digit."""
    digits = "1234567890123"
    return [prefix + first + digits[: length - 1]
            for prefix in PREFIXES for first in "0123456789" for length in range(3, 13)]


NUMBERS = _numbers() + SEPARATED


def test_the_fast_path_covers_the_common_swedish_lengths():
    accepted = {raw for raw in NUMBERS if _SWEDISH.match(raw)}
    # 7, 8 and 9 national digits behind each Swedish prefix (not starting with 0).
    assert {"08123456", "+4681234567", "0046812345678"} <= accepted
    assert not {"0812345", "+468123456789", "004608123456"} & accepted


@pytest.mark.parametrize("raw", NUMBERS)
def test_the_fast_path_agrees_with_phonenumbers(raw):
    assert normalise_phone_fast(raw) == normalise_phone(raw)


def test_the_columnar_copy_accepts_exactly_what_the_fast_path_accepts():
    frame = pl.DataFrame({"raw": NUMBERS})
    compact = pl.col("raw").str.replace_all(PHONE_SEPARATORS, "")
    got = frame.select(compact.str.extract(SWEDISH_PHONE, 1).alias("national"))["national"]

    for raw, national in zip(NUMBERS, got.to_list(), strict=True):
        python = _SWEDISH.match(re.sub(r"[\s\-()/.]", "", raw))
        assert national == (python.group(1) if python else None), raw


def test_the_columnar_copy_agrees_with_phonenumbers_on_what_it_accepts():
    frame = pl.DataFrame({"raw": NUMBERS})
    compact = pl.col("raw").str.replace_all(PHONE_SEPARATORS, "")
    phones = frame.select(
        "raw", (pl.lit("+46") + compact.str.extract(SWEDISH_PHONE, 1)).alias("e164"))

    accepted = phones.filter(pl.col("e164").is_not_null()).rows()
    assert len(accepted) > 30
    for raw, e164 in accepted:
        assert e164 == normalise_phone(raw), raw
