"""A first register's CSV file, parsed a column at a time (polars) in the stage process.

The row-at-a-time stage (``imports.first.Stager``) spends 25-30 µs of Python on every row.
Here polars reads the file and does the per-row work as column operations; Python only sees

* each **distinct** value of the columns whose values repeat (an address is on every object
  of its entrance, a rent or a date on thousands): those go through ``RowParser``'s own
  functions, so a value is judged exactly as the general path judges it;
* every row a column check **doubts** (a bad value anywhere, a control character, an e-mail
  address that is not ASCII, a phone number not written the usual Swedish way): it is parsed
  whole by ``RowParser.parse``, from its raw values, as the general path would;
* the digest of each row (blake2b, the general path's formula, so a re-import compares).

The result is laid out as the staging tables of ``imports.first`` (the same choices as the
row-at-a-time stage: the first row of an entrance makes it, its last coordinates and door
code win, an agreement's first row names its tenants, a kundnummer is one person) and
written chunk by chunk as small SQLite files through ADBC (no Python objects per row), which
the writer loads with ``deserialize`` and copies into the register.

Only a file polars reads exactly as ``csv`` does is taken: UTF-8, no quote characters, lines
ending in LF or CRLF, no blank lines, no cell over csv's field limit. Anything else raises
``NotColumnar`` before the first chunk and the row-at-a-time stage does the file instead.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from imports.normalise import fold
from imports.phones_fast import normalise_phone_fast
from imports.readers import Table
from imports.rows import (
    _LGH,
    KNOWN,
    OBJECT_TYPES,
    Row,
    RowError,
    RowParser,
    _date,
    in_area,
    sweref_to_wgs84,
)

CHUNK_ROWS = 100_000


def _mark(label):  # timing, for bench/profiling
    pass

SCAN = 1 << 22
# 0, 0046 or +46 then 7 to 9 digits not starting with 0, after removing separators: what
# imports.phones_fast turns into E.164 directly. Anything else goes to it value by value.
SWEDISH_PHONE = r"^(?:\+46|0046|0)([1-9][0-9]{6,8})$"
PHONE_SEPARATORS = r"[\s\-()/.]"


class NotColumnar(Exception):  # noqa: N818 (a signal, not an error)
    """This file is not one the column-at-a-time stage reads exactly as csv does."""


def check_file(table: Table) -> None:
    """Raise NotColumnar unless polars will read ``table``'s file exactly as csv reads it:
    UTF-8, no quote character (so no quoted delimiters or line breaks), no NUL, lines that
    end in LF or CRLF (csv also ends a line at a bare CR), no blank line (csv counts it, polars
    skips it) and the header on the first line."""
    if table.kind != "csv" or table.encoding not in ("utf-8", "utf-8-sig"):
        raise NotColumnar("not a UTF-8 CSV file")
    tail = b""
    with open(table.path, "rb") as f:
        head = f.read(SCAN)
        if not head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip():
            raise NotColumnar("blank lines before the header")
        block = head
        while block:
            data = tail + block
            if b'"' in block or b"\x00" in block or _BLANK_LINE.search(data):
                raise NotColumnar("quotes, NUL or a blank line")
            bare = _BARE_CR.search(data)
            if bare and bare.start() < len(data) - 1:  # a CR at the very end: next block
                raise NotColumnar("a line that ends in a bare CR")
            tail = data[-2:]
            block = f.read(SCAN)
    if tail.endswith(b"\r"):
        raise NotColumnar("a line that ends in a bare CR")


_BLANK_LINE = re.compile(rb"\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")


def _unique_map(pl, frame, columns: list[str], function, names: list[str], dtypes: list):
    """Apply ``function`` to each distinct combination of ``columns``; a frame to join.

    ``function`` returns a tuple of ``names`` values, or None when the value is bad (the rows
    with it are then doubted, and parsed whole by RowParser)."""
    distinct = frame.select(columns).unique()
    results = [function(*values) for values in distinct.iter_rows()]
    good = [r is not None for r in results]
    columns_out = {
        name: pl.Series(name, [r[i] if r is not None else None for r in results], dtype=dtype)
        for i, (name, dtype) in enumerate(zip(names, dtypes, strict=True))
    }
    return distinct.with_columns(**columns_out,
                                  **{f"ok_{names[0]}": pl.Series(good, dtype=pl.Boolean)})


class ColumnarStage:
    """Parse the whole file in columns, then hand out the staging tables chunk by chunk."""

    def __init__(self, table: Table, parser: RowParser, directory: Path,
                 chunk_rows: int = CHUNK_ROWS):
        self.table, self.parser, self.directory = table, parser, Path(directory)
        self.chunk_rows = chunk_rows

    # -- reading ------------------------------------------------------------------------------
    def _read(self):
        import polars as pl

        width = len(self.table.header)
        names = [f"c{i}" for i in range(width)]
        raw = pl.read_csv(
            self.table.path, separator=self.table.delimiter, has_header=False, skip_rows=1,
            new_columns=names, infer_schema=False, quote_char=None,
            truncate_ragged_lines=True, empty_string_is_null=False, extra_columns="ignore",
            schema=dict.fromkeys(names, pl.String),
        ).with_columns(pl.all().fill_null(""))
        longest = raw.select(pl.all().str.len_chars().max()).row(0) if raw.height else ()
        if any(n is not None and n > csv.field_size_limit() for n in longest):
            raise NotColumnar("a cell longer than csv reads")
        return raw

    def run(self):
        """Returns (Staged, iterator of chunk files). The iterator writes each chunk's file
        when asked for it."""
        import polars as pl

        from imports.first import Staged

        parser = self.parser
        raw = self._read()
        raw = raw.with_row_index("line", offset=2)  # the header is line 1
        _mark("read")
        index = parser.index
        column_of = {name: f"c{index[name]}" for name in index}
        blank = pl.lit("")

        def col(name: str):
            return pl.col(column_of[name]).str.strip_chars() if name in column_of else blank

        # A row of empty cells is no row, as in the reader.
        cells = [pl.col(c).str.strip_chars() != "" for c in raw.columns if c != "line"]
        raw = raw.filter(pl.any_horizontal(cells)) if cells else raw
        known = [n for n in KNOWN if n in column_of]  # the digest's columns, in its order
        frame = raw.select(
            "line",
            *(col(n).alias(n) for n in KNOWN),
            pl.concat_str([col(n) for n in known], separator="\x1f").alias("joined"),
        )
        _mark("frame")
        staged = Staged()
        staged.rows_total = frame.height

        # -- the columns whose values repeat: each distinct value once, through RowParser --
        address = _unique_map(
            pl, frame, ["gatuadress", "postnummer", "ort"], _safe(parser._address),
            ["street", "street_number", "street_letter", "postnummer_n", "ort_n",
             "address_key"],
            [pl.String, pl.Int64, pl.String, pl.String, pl.String, pl.String])
        kinds = _unique_map(pl, frame, ["objektstyp"], _object_type, ["object_type"],
                            [pl.String])
        floors = _unique_map(pl, frame, ["lagenhetsnummer", "vaning"], _floor,
                             ["lgh", "floor"], [pl.String, pl.Int64])
        points = _unique_map(
            pl, frame, ["lat", "lon", "sweref_n", "sweref_e"], _safe(_point_of(parser)),
            ["lat_f", "lon_f", "north", "east"],
            [pl.Float64, pl.Float64, pl.Float64, pl.Float64])
        dates = _unique_map(pl, frame, ["avtal_fran"], _safe(_iso_date), ["starts_on"],
                            [pl.String])
        designations = _unique_map(pl, frame, ["fastighetsbeteckning"], _designation,
                                   ["designation"], [pl.String])
        numbers = [
            _unique_map(pl, frame, [raw_name], _safe(_decimal_text(raw_name)), [name],
                        [pl.String])
            for raw_name, name in (("rum", "rooms"), ("yta", "area_m2"), ("hyra", "rent_sek"))
        ]
        for mapping, on in ((address, ["gatuadress", "postnummer", "ort"]),
                            (kinds, ["objektstyp"]), (floors, ["lagenhetsnummer", "vaning"]),
                            (points, ["lat", "lon", "sweref_n", "sweref_e"]),
                            (dates, ["avtal_fran"]), (designations, ["fastighetsbeteckning"]),
                            (numbers[0], ["rum"]), (numbers[1], ["yta"]),
                            (numbers[2], ["hyra"])):
            frame = frame.join(mapping, on=on, how="left", maintain_order="left",
                               nulls_equal=True)

        _mark("mapped")
        # -- tenants: names, phone numbers and e-mail addresses, mostly all distinct --------
        doubts = [
            # Control characters (csv and str.strip treat some as spaces, polars does not);
            # the digest's separator, 0x1F, only between the values.
            pl.col("joined").str.contains(r"[\x00-\x08\x0e-\x1e]"),
            pl.col("joined").str.count_matches("\x1f", literal=True) != max(len(known) - 1, 0),
            pl.col("objektsnummer") == "",
        ]
        tenants = []
        for prefix in ("hyresgast", "hyresgast2"):
            name, phone, email = (f"{prefix}_namn", f"{prefix}_telefon", f"{prefix}_epost")
            compact = pl.col(phone).str.replace_all(PHONE_SEPARATORS, "")
            frame = frame.with_columns(
                pl.when(pl.col(phone) == "").then(None)
                .otherwise(pl.lit("+46") + compact.str.extract(SWEDISH_PHONE, 1))
                .alias(f"{prefix}_phone_n"),
            )
            odd = frame.filter((pl.col(phone) != "") & pl.col(f"{prefix}_phone_n").is_null())
            if odd.height:
                phones = _unique_map(pl, odd, [phone], _phone, [f"{prefix}_phone_odd"],
                                     [pl.String])
                frame = frame.join(phones, on=[phone], how="left", maintain_order="left")
                frame = frame.with_columns(
                    pl.coalesce(f"{prefix}_phone_n", f"{prefix}_phone_odd")
                    .alias(f"{prefix}_phone_n"),
                    pl.col(f"ok_{prefix}_phone_odd").fill_null(True),
                )
                doubts.append(~pl.col(f"ok_{prefix}_phone_odd"))
            doubts += [
                (pl.col(email) != "") & (~pl.col(email).str.contains("@", literal=True)
                                         | pl.col(email).str.contains(" ", literal=True)
                                         | pl.col(email).str.contains(r"[^\x00-\x7f]")),
            ]
            frame = frame.with_columns(
                pl.col(name).str.replace_all(r"\s+", " ").alias(f"{prefix}_name_n"),
                pl.when(pl.col(email) == "").then(None)
                .otherwise(pl.col(email).str.to_lowercase()).alias(f"{prefix}_email_n"),
                ((pl.col(name) != "") | (pl.col(phone) != "") | (pl.col(email) != ""))
                .alias(f"{prefix}_present"),
            )
            tenants.append(prefix)
        doubts += [~pl.col(c) for c in frame.columns if c.startswith("ok_")]
        frame = frame.with_columns(pl.any_horizontal(doubts).alias("doubt"))

        _mark("tenants")
        # -- the doubted rows: parsed whole, from their raw values, as the general path does -
        lines = frame.filter(pl.col("doubt")).get_column("line").to_list()
        parsed, errors = self._parse_doubted(raw, lines)
        staged.errors = errors  # (line, column, reason) of rows that are bad on their own

        good = frame.filter(~pl.col("doubt")).select(self._layout_columns(pl))
        if parsed:
            good = pl.concat([good, self._frame_of(pl, parsed).select(good.columns)],
                             how="vertical_relaxed")
        bad = pl.DataFrame(
            {"line": [e[0] for e in errors], "objektsnummer": [e[3] for e in errors]},
            schema={"line": pl.Int64, "objektsnummer": pl.String})
        staged.errors = [e[:3] for e in errors]
        good = good.with_columns(pl.col("line").cast(pl.Int64)).sort("line")
        _mark("good")
        return self._arrange(pl, staged, good, bad)

    # -- the doubted rows ------------------------------------------------------------------
    def _parse_doubted(self, raw, lines: list[int]):
        import polars as pl

        parser = self.parser
        rows: list[Row] = []
        errors: list[tuple[int, str, str, str]] = []
        if not lines:
            return rows, errors
        picked = raw.filter(pl.col("line").is_in(lines))
        for values in picked.iter_rows():
            line, values = values[0], parser.clean(list(values[1:]))
            number = parser.objektsnummer(values)
            try:
                rows.append(parser.parse(line, values, parser.digest(values)))
            except RowError as exc:
                errors.append((line, exc.column, exc.reason, number))
        return rows, errors

    def _frame_of(self, pl, rows: list[Row]):
        """Parsed rows as the columns the vectorised ones have."""
        def tenant(row, i, attr):
            return getattr(row.tenants[i], attr) if i < len(row.tenants) else None

        def column(values, dtype):
            return pl.Series(values, dtype=dtype)

        # RowParser lists the present tenants; here a row has slot 1 and slot 2, and the
        # first present tenant is position 1 either way, which is all that is used.
        data = {
            "line": column([r.line for r in rows], pl.Int64),
            "objektsnummer": column([r.objektsnummer for r in rows], pl.String),
            "object_type": column([r.object_type for r in rows], pl.String),
            "street": column([r.street for r in rows], pl.String),
            "street_number": column([r.street_number for r in rows], pl.Int64),
            "street_letter": column([r.street_letter for r in rows], pl.String),
            "postnummer_n": column([r.postnummer for r in rows], pl.String),
            "ort_n": column([r.ort for r in rows], pl.String),
            "address_key": column([r.address_key for r in rows], pl.String),
            "designation": column([r.designation for r in rows], pl.String),
            "lgh": column([r.lagenhetsnummer for r in rows], pl.String),
            "floor": column([r.floor for r in rows], pl.Int64),
            "door_code": column([r.door_code for r in rows], pl.String),
            "lat_f": column([r.lat for r in rows], pl.Float64),
            "lon_f": column([r.lon for r in rows], pl.Float64),
            "north": column([r.sweref[0] if r.sweref else None for r in rows], pl.Float64),
            "east": column([r.sweref[1] if r.sweref else None for r in rows], pl.Float64),
            "rooms": column([_text(r.rooms) for r in rows], pl.String),
            "area_m2": column([_text(r.area_m2) for r in rows], pl.String),
            "rent_sek": column([_text(r.rent_sek) for r in rows], pl.String),
            "avtalsnummer": column([r.avtalsnummer for r in rows], pl.String),
            "kundnummer": column([r.kundnummer for r in rows], pl.String),
            "starts_on": column([_text(r.starts_on) for r in rows], pl.String),
            "digest": column([r.digest for r in rows], pl.String),
            "joined": column([None] * len(rows), pl.String),
        }
        for i, prefix in enumerate(("hyresgast", "hyresgast2")):
            data[f"{prefix}_present"] = column([len(r.tenants) > i for r in rows], pl.Boolean)
            data[f"{prefix}_name_n"] = column([tenant(r, i, "name") for r in rows], pl.String)
            data[f"{prefix}_phone_n"] = column([tenant(r, i, "phone") for r in rows], pl.String)
            data[f"{prefix}_email_n"] = column([tenant(r, i, "email") for r in rows], pl.String)
        return pl.DataFrame(data)

    @staticmethod
    def _layout_columns(pl):
        """The vectorised rows' columns, named and typed as ``_frame_of`` makes them."""
        def none_if_empty(name):
            return pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name))

        columns = [
            pl.col("line").cast(pl.Int64), "objektsnummer", "object_type", "street",
            "street_number", "street_letter", "postnummer_n", "ort_n", "address_key",
            "designation", "lgh", "floor", none_if_empty("portkod").alias("door_code"),
            "lat_f", "lon_f", "north", "east", "rooms", "area_m2", "rent_sek",
            none_if_empty("avtalsnummer").alias("avtalsnummer"),
            none_if_empty("kundnummer").alias("kundnummer"), "starts_on",
            pl.lit(None, dtype=pl.String).alias("digest"), "joined",
        ]
        # Tenants in slots as RowParser lists them: the second moves up when the first is
        # absent.
        one, two = "hyresgast", "hyresgast2"
        for slot in (0, 1):
            present = pl.col(f"{one}_present") & pl.col(f"{two}_present") if slot else (
                pl.col(f"{one}_present") | pl.col(f"{two}_present"))
            for part in ("name_n", "phone_n", "email_n"):
                if slot == 0:
                    value = pl.when(pl.col(f"{one}_present")).then(pl.col(f"{one}_{part}")) \
                        .otherwise(pl.col(f"{two}_{part}"))
                else:
                    value = pl.col(f"{two}_{part}")
                columns.append(pl.when(present).then(value).otherwise(None)
                               .alias(f"{(one, two)[slot]}_{part}"))
            columns.append(present.alias(f"{(one, two)[slot]}_present"))
        return columns

    # -- the layout --------------------------------------------------------------------------
    def _arrange(self, pl, staged, good, bad):
        """Duplicates, SWEREF, then the register's tables with ids from zero."""
        # A row is a duplicate when a valid row with its objektsnummer came before it.
        firsts = good.group_by("objektsnummer").agg(pl.col("line").min().alias("first"))
        good = good.join(firsts, on="objektsnummer", how="left", maintain_order="left")
        dupes = good.filter(pl.col("line") != pl.col("first")).select("line", "first")
        bad = bad.join(firsts, on="objektsnummer", how="left", maintain_order="left")
        errors = {line: (column, reason) for line, column, reason in staged.errors}
        for line, first in bad.filter(pl.col("first") < pl.col("line")).iter_rows():
            errors[line] = ("objektsnummer", f"duplicate objektsnummer, first on line {first}")
        for line, first in dupes.iter_rows():
            errors[line] = ("objektsnummer", f"duplicate objektsnummer, first on line {first}")
        good = good.filter(pl.col("line") == pl.col("first")).drop("first")

        _mark("dupes")
        # SWEREF 99 TM to WGS84, each distinct point once; one off the map drops its row.
        needs = good.filter(pl.col("lat_f").is_null() & pl.col("north").is_not_null())
        if needs.height:
            distinct = needs.select("north", "east").unique()
            converted = sweref_to_wgs84(list(distinct.iter_rows()))
            inside = [in_area(lat, lon) for lat, lon in converted]
            distinct = distinct.with_columns(
                pl.Series("lat_s", [round(p[0], 7) if ok else None
                                    for p, ok in zip(converted, inside, strict=True)],
                          dtype=pl.Float64),
                pl.Series("lon_s", [round(p[1], 7) if ok else None
                                    for p, ok in zip(converted, inside, strict=True)],
                          dtype=pl.Float64),
                pl.Series("inside", inside, dtype=pl.Boolean),
            )
            good = good.join(distinct, on=["north", "east"], how="left",
                             maintain_order="left", nulls_equal=False)
            good = good.with_columns(
                pl.when(pl.col("lat_f").is_null() & pl.col("north").is_not_null())
                .then(pl.col("inside")).otherwise(True).alias("inside"))
            for (line,) in good.filter(~pl.col("inside")).select("line").iter_rows():
                errors[line] = ("sweref_n", "SWEREF coordinates outside Sweden and Finland")
            good = good.filter(pl.col("inside")).with_columns(
                pl.coalesce("lat_f", "lat_s").alias("lat_f"),
                pl.coalesce("lon_f", "lon_s").alias("lon_f"),
            ).drop("lat_s", "lon_s", "inside")
        staged.errors = sorted((line, c, r) for line, (c, r) in errors.items())
        good = good.with_row_index("object_id").with_columns(
            pl.col("object_id").cast(pl.Int64))

        _mark("sweref")
        # Entrances: made by their first row; the last coordinates and door code win.
        entrances = good.group_by("address_key", maintain_order=True).agg(
            pl.col("object_id").first().alias("first_object"),
            pl.col("street").first(), pl.col("street_number").first(),
            pl.col("street_letter").first(), pl.col("postnummer_n").first(),
            pl.col("ort_n").first(), pl.col("designation").first(),
            pl.col("lat_f").drop_nulls().last().alias("lat"),
            pl.col("lon_f").drop_nulls().last().alias("lon"),
            pl.col("door_code").drop_nulls().last().alias("door_code"),
            pl.len().alias("rows"),
        ).with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
        properties = (entrances.filter(pl.col("designation").is_not_null())
                      .select("designation").unique(maintain_order=True)
                      .with_row_index("id").with_columns(pl.col("id").cast(pl.Int64)))
        entrances = entrances.join(
            properties.rename({"id": "property_id"}), on="designation", how="left",
            maintain_order="left")
        good = good.join(entrances.select("address_key", pl.col("id").alias("entrance_id")),
                         on="address_key", how="left", maintain_order="left")

        _mark("entrances")
        # Agreements: one per avtalsnummer (made by its first row), else one per row with
        # tenants; none for a vacant object without one.
        has = pl.col("avtalsnummer").is_not_null() | pl.col("hyresgast_present")
        good = good.with_columns(
            has.alias("has_agreement"),
            (has & (pl.col("avtalsnummer").is_null()
                    | pl.col("avtalsnummer").is_first_distinct())).alias("agreement_new"),
        )
        made = good.filter(pl.col("agreement_new")).select("object_id", "avtalsnummer") \
            .with_row_index("agreement_id").with_columns(pl.col("agreement_id").cast(pl.Int64))
        numbered = made.filter(pl.col("avtalsnummer").is_not_null()).select(
            "avtalsnummer", pl.col("agreement_id").alias("numbered_id"))
        good = good.join(made.select("object_id", "agreement_id"), on="object_id",
                         how="left", maintain_order="left")
        good = good.join(numbered, on="avtalsnummer", how="left", maintain_order="left")
        good = good.with_columns(
            pl.coalesce("agreement_id", "numbered_id").alias("agreement_id")).drop(
            "numbered_id")

        _mark("agreements")
        # People: the tenants of the rows that make agreements. The first listed tenant has
        # the row's kundnummer; a kundnummer is one person, with the last values given.
        makers = good.filter(pl.col("agreement_new"))
        people_parts = []
        for slot, prefix in enumerate(("hyresgast", "hyresgast2"), start=1):
            part = makers.filter(pl.col(f"{prefix}_present")).select(
                "object_id", "agreement_id", pl.lit(slot, dtype=pl.Int64).alias("position"),
                pl.col(f"{prefix}_name_n").alias("name"),
                pl.col(f"{prefix}_phone_n").alias("phone"),
                pl.col(f"{prefix}_email_n").alias("email"),
                (pl.col("kundnummer") if slot == 1 else pl.lit(None, dtype=pl.String))
                .alias("kundnummer"),
            )
            people_parts.append(part)
        tenants = pl.concat(people_parts).sort("object_id", "position")
        with_number = tenants.filter(pl.col("kundnummer").is_not_null())
        persons = with_number.group_by("kundnummer", maintain_order=True).agg(
            pl.col("object_id").first(), pl.col("name").last(), pl.col("phone").last(),
            pl.col("email").last())
        persons = pl.concat([
            persons.select("object_id", pl.lit(1, dtype=pl.Int64).alias("position"),
                           "name", "phone", "email", "kundnummer"),
            tenants.filter(pl.col("kundnummer").is_null()).select(
                "object_id", "position", "name", "phone", "email", "kundnummer"),
        ]).sort("object_id", "position").with_row_index("id").with_columns(
            pl.col("id").cast(pl.Int64))
        parties = pl.concat([
            with_number.join(persons.select("kundnummer", pl.col("id").alias("person_id")),
                             on="kundnummer", how="left", maintain_order="left")
            .select("object_id", "agreement_id", "person_id", "position"),
            tenants.filter(pl.col("kundnummer").is_null()).join(
                persons.filter(pl.col("kundnummer").is_null())
                .select("object_id", "position", pl.col("id").alias("person_id")),
                on=["object_id", "position"], how="left", maintain_order="left")
            .select("object_id", "agreement_id", "person_id", "position"),
        ]).sort("object_id", "position")

        _mark("people")
        staged.counts = {"properties": properties.height, "entrances": entrances.height,
                         "objects": good.height, "agreements": made.height,
                         "people": persons.height}
        for row in entrances.select("address_key", "id", "lat", "lon", "door_code",
                                    "rows").iter_rows():
            key, local, lat, lon, door, count = row
            staged.entrances[key] = [local, lat, lon, "file" if lat is not None else None,
                                     door, count, False]
        return staged, self._chunks(pl, good, properties, entrances, persons, parties)

    # -- writing the chunks ------------------------------------------------------------------
    def _chunks(self, pl, good, properties, entrances, persons, parties) -> Iterator:
        """Write each chunk's staging tables to a SQLite file; yield (path, share done)."""
        import adbc_driver_sqlite.dbapi as adbc

        from imports.first import STAGING_TABLES

        size = self.chunk_rows
        total = max(good.height, 1)
        count = max((good.height + size - 1) // size, 1)
        for number in range(count):
            part = good.slice(number * size, size)
            digests = [
                d if d is not None else _digest(j)
                for d, j in zip(part.get_column("digest").to_list(),
                                part.get_column("joined").to_list(), strict=True)]
            objects = part.select(
                pl.col("object_id").alias("id"), "entrance_id", "objektsnummer",
                "object_type", pl.col("lgh").alias("lagenhetsnummer"), "floor", "rooms",
                "area_m2", "rent_sek", pl.Series("row_hash", digests, dtype=pl.String),
                "agreement_id", pl.col("agreement_new").cast(pl.Int64), "avtalsnummer",
                "starts_on")
            low, high = number * size, (number + 1) * size
            tables = {
                "objects": objects,
                "people": persons.filter(pl.col("object_id").is_between(low, high - 1,
                                                                        closed="both"))
                .select("id", "name", "phone", "email", "kundnummer"),
                "parties": parties.filter(pl.col("object_id").is_between(low, high - 1,
                                                                        closed="both"))
                .select("agreement_id", "person_id", "position"),
            }
            # The first chunk has every property and entrance; the others empty tables.
            tables["properties"] = properties.select("id", "designation")
            tables["entrances"] = entrances.select(
                "id", "property_id", "street", "street_number", "street_letter",
                pl.col("postnummer_n").alias("postnummer"), pl.col("ort_n").alias("ort"),
                "address_key", "lat", "lon",
                pl.when(pl.col("lat").is_not_null()).then(pl.lit("file"))
                .otherwise(None).alias("position_source"), "door_code")
            if number:
                tables["properties"] = tables["properties"].clear()
                tables["entrances"] = tables["entrances"].clear()
            path = self.directory / f"chunk-{number:05d}.db"
            with adbc.connect(str(path)) as connection:
                with connection.cursor() as cursor:
                    # Every image has the staging schema of imports.first, created the same
                    # way in the same order (same pages, same schema cookie), so that the
                    # writer's prepared statements stay right from one image to the next.
                    for name, columns in STAGING_TABLES.items():
                        cursor.execute(f"CREATE TABLE {name} ({columns})")
                    for name in STAGING_TABLES:
                        frame = tables[name]
                        frame = frame.with_columns(
                            pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                            if t == pl.Null)
                        if frame.height:
                            cursor.adbc_ingest(name, frame, mode="append")
                connection.commit()
            yield path, min((number + 1) * size, total) / total


# -- the per-value functions -----------------------------------------------------------------

def _safe(function):
    def safe(*values):
        try:
            return function(*values)
        except RowError:
            return None
    return safe


def _object_type(raw: str):
    if not raw:
        return ("lägenhet",)
    kind = OBJECT_TYPES.get(fold(raw))
    return (kind,) if kind is not None else None


def _floor(lgh: str, raw_floor: str):
    if lgh:
        return (lgh, int(lgh[:2]) - 10) if _LGH.match(lgh) else None
    if raw_floor:
        try:
            return (None, int(raw_floor))
        except ValueError:
            return None
    return (None, None)


def _point_of(parser: RowParser):
    def point(raw_lat, raw_lon, raw_north, raw_east):
        if raw_lat or raw_lon:
            return (*parser._point(raw_lat, raw_lon), None, None)
        if raw_north or raw_east:
            return (None, None, *parser._sweref(raw_north, raw_east))
        return (None, None, None, None)
    return point


def _iso_date(raw: str):
    return (_date(raw).isoformat() if raw else None,)


def _designation(raw: str):
    return (" ".join(raw.split()) if raw else None,)


def _decimal_text(column: str):
    from imports.rows import _decimal

    def number(raw: str):
        return (str(_decimal(raw, column)) if raw else None,)
    return number


def _phone(raw: str):
    phone = normalise_phone_fast(raw)
    return (phone,) if phone is not None else None


def _text(value):
    return None if value is None else str(value) if not hasattr(value, "isoformat") \
        else value.isoformat()


def _digest(joined: str) -> str:
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()

