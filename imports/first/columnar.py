"""A first register's CSV file, parsed a column at a time (polars) in the stage process.

The row-at-a-time stage (``imports.first.stage.Stager``) spends 25-30 µs of Python on every row.
Here polars reads the file block by block (``CHUNK_BYTES`` of whole lines) and does the
per-row work as column operations; Python only sees

* each **distinct** value of the columns whose values repeat (an address is on every object
  of its entrance, a rent or a date on thousands) that polars does not read itself (plain
  decimals, coordinates in Sweden and Finland, ISO dates, Swedish phone numbers): those go
  through ``RowParser``'s own methods, so a value is judged exactly as the general path
  judges it;
* every row a column check **doubts** (a bad value anywhere, an e-mail address that is not
  plain ASCII, an odd phone number that ``phonenumbers`` rejects): it is parsed whole by
  ``RowParser.parse``, as the general path would;
* the digest of each row (``digest_of``, the general path's formula, so a re-import
  compares).

Each block is laid out as the staging tables (``imports.first.staging``) with the row stage's
choices (the first row of an entrance makes it, its last coordinates and door code win, an
agreement's first row names its tenants, a kundnummer is one person; what spans blocks is
kept in ``ColumnarStage``) and written as a small SQLite file through ADBC (no Python object
per row), which the writer loads with ``deserialize`` and copies into the register.

Only a file polars reads exactly as ``csv`` does is taken: UTF-8, no quote characters, lines
ending in LF or CRLF, no blank lines, the header on the first line. Anything else raises
``NotColumnar`` before the first chunk and the row-at-a-time stage does the file instead. A
cell longer than csv's field limit raises ``csv.Error``, as reading it row by row would.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path

from imports.first.staging import OUTPUTS, STAGING_TABLES, STAGING_TYPES, Staged
from imports.limits import Limits
from imports.phones_fast import normalise_phone_fast
from imports.readers import StructureError, Table, detect_delimiter
from imports.rows import (
    CACHE_LIMIT,
    IDENTITY_COLUMNS,
    KNOWN,
    NEWER,
    SWEDISH_NUMBER,
    SWEREF_OFF_MAP,
    Row,
    RowError,
    RowParser,
    duplicate,
    identity_number,
    place_sweref,
)

# A block of the file: about 60,000 rows of a typical register. 12 MB, not 16: at 1,000,000
# rows the stage process then peaks at ~570 MiB instead of ~650, which keeps it and the writer
# within 1 GiB, for ~0.4 s more of its CPU (bench/README.md, "Register importer").
CHUNK_BYTES = 12 << 20
SCAN = 1 << 20
# 0, 0046 or +46 then 7 to 9 digits not starting with 0, after removing separators: what
# imports.phones_fast turns into E.164 directly. Anything else goes to it value by value.
SWEDISH_PHONE = r"^(?:\+46|0046|0)([1-9][0-9]{6,8})$"
# What phones_fast removes: re's \s (str.isspace: Unicode White_Space and 0x1C-0x1F).
PHONE_SEPARATORS = r"[\s\x1c-\x1f\-()/.]"
# What str.strip() and str.split() take as space: Unicode White_Space and 0x1C-0x1F.
PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(
    map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
PY_SPACES = r"[\s\x1c-\x1f]+"
PLAIN_DECIMAL = r"^-?[0-9]{1,3}\.[0-9]{1,12}$|^-?[0-9]{1,3}$"
# Plain numbers and dates: what str(Decimal(...)) and date.isoformat() give back unchanged.
PLAIN_NUMBER = r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,4})?$"
PLAIN_DATE = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
PLAIN_EMAIL = r"^[\x00-\x1f\x21-\x7f]*@[\x00-\x1f\x21-\x7f]*$"


class NotColumnar(Exception):  # noqa: N818 (a signal, not an error)
    """This file is not one the column-at-a-time stage reads exactly as csv does."""


def open_plain(path: Path, line_bytes: int | None = None) -> Table:
    """``path`` as a CSV file for the column stage, without reading it whole: its header line
    (UTF-8, with or without BOM), delimiter and header, as ``open_table`` finds them for a
    UTF-8 file. ``check_file`` then reads it once for what the column stage needs; anything
    else raises NotColumnar (the row stage then opens it with ``open_table``).

    The limits (``imports.limits``) are the writer's to check (``open_table``), before or
    while the stage starts; ``line_bytes`` only bounds what is read here: a longer first
    line is NotColumnar (and the writer refuses the file)."""
    with open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04":
            raise NotColumnar("a zip file (XLSX)")
        f.seek(0)
        first = f.readline(-1 if line_bytes is None else line_bytes + 3)  # + BOM
        if line_bytes is not None and len(first) > line_bytes + 2 and not first.endswith(
                b"\n"):
            raise NotColumnar("a header line longer than the limit")
    bom = first.startswith(codecs.BOM_UTF8)
    try:
        text = first.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        delimiter = detect_delimiter(text)
    except (UnicodeDecodeError, StructureError):
        raise NotColumnar("no UTF-8 header line with a delimiter") from None
    header = next(csv.reader([text], delimiter=delimiter), [])
    return Table("csv", "utf-8-sig" if bom else "utf-8", delimiter, header, iter(()),
                 path.stat().st_size, lambda: 0, lambda: None, path)


def check_file(table: Table, limits: Limits | None = None) -> None:
    """Raise NotColumnar unless polars will read ``table``'s file exactly as csv reads it:
    UTF-8, no quote character (so no quoted delimiters or line breaks), no NUL, lines that
    end in LF or CRLF (csv also ends a line at a bare CR), no blank line (csv counts it, polars
    skips it) and the header on the first line.

    One pass over the file in blocks of whole lines, each looked at by polars (its UTF-8
    check and substring searches run over the bytes without a Python object per line).
    ``limits`` bound the pass (the stage may run it while its writer checks the limits): a
    line longer than ``line_bytes`` or more lines than ``rows`` + 1 is NotColumnar at once."""
    if table.kind != "csv" or table.encoding not in ("utf-8", "utf-8-sig"):
        raise NotColumnar("not a UTF-8 CSV file")
    import polars as pl

    text = pl.col("b")
    odd = (text.str.contains('"', literal=True) | text.str.contains("\x00", literal=True)
           | text.str.contains("\n\n", literal=True)
           | text.str.contains("\n\r\n", literal=True)
           # Every CR ends a line with the LF after it.
           | (text.str.count_matches("\r", literal=True)
              != text.str.count_matches("\r\n", literal=True)))
    first, pending, ends = True, b"", 0  # ends: line ends read so far
    with open(table.path, "rb") as f:
        while True:
            data = f.read(SCAN)
            block = pending + data
            if data:  # whole lines only: no block splits a CRLF, a blank line or a character
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    if limits is not None and len(block) > limits.line_bytes + 1:
                        raise NotColumnar("a line longer than the limit")
                    pending = block
                    continue
                block, pending = block[:cut], block[cut:]
            elif not block:
                return
            if limits is not None:
                ends += block.count(b"\n")
                if ends > limits.rows + 2:  # the header, and a last line without its end
                    raise NotColumnar("more lines than the limit")
            if first:
                if not block.removeprefix(codecs.BOM_UTF8).split(b"\n", 1)[0].strip():
                    raise NotColumnar("blank lines before the header")
                first = False
            elif block.startswith((b"\n", b"\r\n")):  # a blank line after the block before
                raise NotColumnar("a blank line")
            try:  # the cast checks that the bytes are UTF-8
                lines = pl.Series("b", [block], dtype=pl.Binary).cast(pl.String)
            except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError):
                raise NotColumnar("not UTF-8") from None
            if lines.to_frame().select(odd).item():
                raise NotColumnar("quotes, NUL, a blank line or a line that ends in a bare CR")
            if not data:
                return


class _Mapping:
    """A function of some columns' values, applied to each distinct value once.

    ``function`` returns a tuple of ``names`` values, or None when the value is bad (the rows
    with it are then doubted, and parsed whole by RowParser). Results are remembered across
    blocks (up to CACHE_LIMIT values, then it starts again, as RowParser's caches do)."""

    def __init__(self, columns: list[str], function, names: list[str], dtypes: list[str]):
        self.columns, self.function, self.names, self.dtypes = columns, function, names, dtypes
        self.memo: dict[tuple, tuple | None] = {}

    def join(self, pl, frame):
        distinct = frame.select(self.columns).unique()
        memo, function, results = self.memo, self.function, []
        for values in distinct.iter_rows():
            result = memo.get(values, _UNSEEN)
            if result is _UNSEEN:
                result = function(*values)
                if len(memo) >= CACHE_LIMIT:
                    memo.clear()
                memo[values] = result
            results.append(result)
        if len(results) == 1:  # one value in the whole block (often: empty): no join
            (result,) = results
            return frame.with_columns(
                *(pl.lit(result[i] if result is not None else None, dtype=getattr(pl, kind))
                  .alias(name)
                  for i, (name, kind) in enumerate(zip(self.names, self.dtypes, strict=True))),
                pl.lit(result is not None).alias(f"ok_{self.names[0]}"))
        table = distinct.with_columns(
            *(pl.Series(name, [r[i] if r is not None else None for r in results],
                        dtype=getattr(pl, kind))
              for i, (name, kind) in enumerate(zip(self.names, self.dtypes, strict=True))),
            pl.Series(f"ok_{self.names[0]}", [r is not None for r in results],
                      dtype=pl.Boolean),
        )
        return _attach(pl, frame, table, self.columns, nulls_equal=True)


_UNSEEN = object()


def _attach(pl, frame, right, on: list[str], *, nulls_equal: bool = False):
    """``frame`` with the other columns of ``right`` (unique on ``on``) beside it, matched
    on ``on``: a left join that joins only the key columns and keeps ``frame``'s own."""
    joined = frame.select(on).join(right, on=on, how="left", maintain_order="left",
                                   nulls_equal=nulls_equal)
    return frame.with_columns(joined.drop(on))


class _Keys:
    """Keys met so far in the file, each with a number (a line, an id).

    Kept as a few runs sorted by key and searched by bisection, so that a block's lookups
    cost its own size (times log n), not the size of everything seen before it; a run is
    merged into the one before it once it is half as long, so that there are about log n
    runs and each key is copied about log n times in all."""

    def __init__(self, pl):
        self.runs: list = []

    def lookup(self, pl, keys):
        """The number of each key, null where it is new (or null)."""
        values = pl.Series("value", [None] * len(keys), dtype=pl.Int64)
        for run in self.runs:
            known = run.get_column("key")
            at = known.search_sorted(keys, side="left").cast(pl.Int64).clip(0, run.height - 1)
            found = pl.DataFrame({
                "found": (known.gather(at) == keys).fill_null(False),
                "value": run.get_column("value").gather(at),
            }).select(pl.when("found").then("value").otherwise(None)).to_series()
            values = values.fill_null(found)
        return values

    def add(self, pl, keys, values) -> None:
        """Add keys that are not there yet (each once)."""
        runs = self.runs
        if not len(keys):
            return
        runs.append(pl.DataFrame({"key": keys, "value": values},
                                 schema={"key": pl.String, "value": pl.Int64}).sort("key"))
        while len(runs) > 1 and 2 * runs[-1].height >= runs[-2].height:
            last = runs.pop()
            runs[-1] = runs[-1].merge_sorted(last, key="key")


class ColumnarStage:
    """Reads the file block by block (about ``chunk_bytes`` each, whole lines) and turns each
    block into one chunk of staging tables, written as a SQLite file.

    Decisions that span the file are kept here between blocks, as the row stage keeps them:
    the objektsnummer seen so far (duplicates), entrances, properties, agreements by
    avtalsnummer and people by kundnummer. A block's entrances that were staged in an earlier
    chunk and get other coordinates or another door code later are marked changed in
    ``result.entrances`` (the writer updates them), a person named again under a kundnummer
    goes to ``result.person_updates``, exactly as in ``imports.first.stage.Stager``.
    """

    def __init__(self, table: Table, parser: RowParser, directory: Path,
                 chunk_bytes: int = CHUNK_BYTES, output: str = "sqlite"):
        import polars as pl

        if output not in OUTPUTS:
            raise ValueError(f"not a chunk output: {output!r}")
        self.table, self.parser, self.directory = table, parser, Path(directory)
        self.chunk_bytes, self.output = chunk_bytes, output
        self.result = Staged()
        self.seen, self.agreements, self.people = _Keys(pl), _Keys(pl), _Keys(pl)
        self.properties: dict[str, int] = {}
        self.mappings = [
            _Mapping(["gatuadress", "postnummer", "ort"], _safe(parser._address),
                     ["street", "street_number", "street_letter", "postnummer_n", "ort_n",
                      "address_key"],
                     ["String", "Int64", "String", "String", "String", "String"]),
            _Mapping(["objektstyp"], _object_type(parser), ["object_type"], ["String"]),
            _Mapping(["lagenhetsnummer", "vaning"], _floor(parser), ["lgh", "floor"],
                     ["String", "Int64"]),
            _Mapping(["p_lat", "p_lon", "p_north", "p_east"], _point(parser),
                     ["lat_f", "lon_f", "north", "east"],
                     ["Float64", "Float64", "Float64", "Float64"]),
            _Mapping(["k_avtal_fran"], _optional(parser.starts_on), ["starts_on"],
                     ["String"]),
            _Mapping(["k_avtal_till"], _optional(parser.ends_on), ["ends_on"], ["String"]),
            # Identity numbers the column check does not read (a hetu, spaces inside ...):
            # each through RowParser's python-stdnum check once.
            *(_Mapping([f"k_{column}"], _optional(partial(identity_number, column=column)),
                       [f"{prefix}_pnr_q"], ["String"])
              for prefix, column in zip(("hyresgast", "hyresgast2"), IDENTITY_COLUMNS,
                                        strict=True)),
            _Mapping(["fastighetsbeteckning"], _optional(parser.designation),
                     ["designation"], ["String"]),
            _Mapping(["k_rum"], _decimal(parser, 0, "rum"), ["rooms"], ["String"]),
            _Mapping(["k_yta"], _decimal(parser, 1, "yta"), ["area_m2"], ["String"]),
            _Mapping(["k_hyra"], _decimal(parser, 2, "hyra"), ["rent_sek"], ["String"]),
        ]
        self.next = {"properties": 0, "entrances": 0, "objects": 0, "agreements": 0,
                     "people": 0}
        self.names = [f"c{i}" for i in range(len(table.header))]

    def chunks(self) -> Iterator[tuple[Path, int]]:
        """Yield (chunk file, bytes of the file read) per block; fill ``result`` after the
        last. The caller deletes each file when it has loaded it."""
        for number, (data, position, first_line) in enumerate(self._blocks()):
            tables = self._stage(self._read(data, first_line))
            yield self._write(number, tables), position
        self.result.counts = dict(self.next)
        self.result.errors.sort()

    # -- reading ------------------------------------------------------------------------------
    def _blocks(self) -> Iterator[tuple[bytes, int, int]]:
        """(whole lines, bytes read so far, line number of the first) after the header.

        The first block and the last ones are smaller (down to an eighth): the writer waits
        for the first block, and nothing is left to overlap with the copy of the last."""
        small = max(self.chunk_bytes // 8, 1)
        size = self.table.path.stat().st_size
        with open(self.table.path, "rb") as f:
            f.readline()  # the header: its line is 1 (check_file saw to it)
            line, pending, want = 2, b"", small
            while True:
                block = f.read(want)
                want = min(self.chunk_bytes, max(small, (size - f.tell()) // 2))
                data = pending + block
                if not block:
                    if data:
                        yield data, f.tell(), line
                    return
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    pending = data
                    continue
                yield data[:cut], f.tell() - (len(data) - cut), line
                line += data.count(b"\n", 0, cut)
                pending = data[cut:]

    def _read(self, data: bytes, first_line: int):
        import polars as pl

        raw = pl.read_csv(
            data, separator=self.table.delimiter, has_header=False, new_columns=self.names,
            infer_schema=False, quote_char=None, truncate_ragged_lines=True,
            empty_string_is_null=False, extra_columns="ignore", missing_columns="insert",
            schema=dict.fromkeys(self.names, pl.String),
        ).with_columns(pl.all().fill_null(""))
        limit = csv.field_size_limit()
        longest = raw.select(pl.all().str.len_bytes().max()).row(0) if raw.height else ()
        if any(n is not None and n > limit for n in longest) and any(
                n is not None and n > limit
                for n in raw.select(pl.all().str.len_chars().max()).row(0)):
            raise csv.Error(f"field larger than field limit ({limit})")  # as csv says it
        return raw.with_row_index("line", offset=first_line)

    # -- one block ----------------------------------------------------------------------------
    def _stage(self, raw) -> dict:
        import polars as pl

        parser, out = self.parser, self.result
        index = parser.index
        column_of = {name: f"c{index[name]}" for name in index}
        blank = pl.lit("")

        # Every cell stripped once, of what str.strip() strips (polars' default would leave
        # 0x1C-0x1F). A doubted row is parsed from these: RowParser strips them the same.
        raw = raw.with_columns(pl.col(self.names).str.strip_chars(PY_SPACE))
        # A row of empty cells is no row, as in the reader.
        raw = raw.filter(pl.any_horizontal(pl.col(self.names) != ""))
        out.rows_total += raw.height
        known = [n for n in KNOWN if n in column_of]  # the digest's columns, in its order

        def col(name: str):
            return pl.col(column_of[name]) if name in column_of else blank

        # The digest's text (``RowParser.digest``): trailing empty cells of the newer
        # columns are left out, as if the file had not had them.
        older = [col(n) for n in known if n not in NEWER]
        joined = pl.concat_str(older, separator="\x1f")
        newer = [col(n) for n in known if n in NEWER]
        if newer:
            tail = pl.concat_str(newer, separator="\x1f").str.strip_chars_end("\x1f")
            joined = pl.when(tail == "").then(joined).otherwise(
                pl.concat_str([joined, tail], separator="\x1f"))
        frame = raw.select(
            "line",
            *(col(n).alias(n) for n in KNOWN),
            joined.alias("joined"),
        )

        # -- the columns whose values repeat: each distinct value once, through RowParser --
        # Coordinates written as plain decimals (point or comma) in Sweden or Finland are
        # read here (a correctly rounded float, as float() gives); any other point goes
        # through RowParser with the SWEREF columns, each distinct one once.
        def number(name):
            text = pl.col(name).str.replace_all(" ", "", literal=True) \
                .str.replace_all(",", ".", literal=True)
            return pl.when(text.str.contains(PLAIN_DECIMAL)).then(
                text.cast(pl.Float64, strict=False)).otherwise(None)

        frame = frame.with_columns(number("lat").alias("lat_v"), number("lon").alias("lon_v"))
        lat, lon = pl.col("lat_v"), pl.col("lon_v")
        plain = (lat.is_between(55.0, 69.2) & lon.is_between(10.5, 24.3)) | (
            lat.is_between(59.5, 70.2) & lon.is_between(19.0, 31.7))
        frame = frame.with_columns(plain.fill_null(False).alias("plain_point"))
        frame = frame.with_columns(
            pl.when("plain_point").then(pl.lit("")).otherwise(pl.col(name)).alias(alias)
            for name, alias in (("lat", "p_lat"), ("lon", "p_lon"), ("sweref_n", "p_north"),
                                ("sweref_e", "p_east")))
        # Likewise numbers written plainly (str(Decimal) gives them back as they are, once
        # spaces are gone and the comma is a point) and ISO dates from year 1000 on.
        plain_values = {}
        for raw_name in ("rum", "yta", "hyra"):
            text = pl.col(raw_name).str.replace_all("\u00a0", "", literal=True) \
                .str.replace_all(" ", "", literal=True).str.replace_all(",", ".", literal=True)
            plain_values[raw_name] = pl.when(text.str.contains(PLAIN_NUMBER)).then(text)
        for date_column in ("avtal_fran", "avtal_till"):
            day = pl.col(date_column).str.slice(0, 10)
            plain_values[date_column] = pl.when(
                pl.col(date_column).str.contains(PLAIN_DATE)
                & day.str.to_date("%Y-%m-%d", strict=False).is_not_null()).then(day)
        frame = frame.with_columns(value.alias(f"v_{name}") for name, value in
                                   plain_values.items())
        frame = frame.with_columns(
            pl.when(pl.col(f"v_{name}").is_not_null()).then(pl.lit("")).otherwise(name)
            .alias(f"k_{name}") for name in plain_values)
        frame = _swedish_numbers(pl, frame)
        for mapping in self.mappings:
            frame = mapping.join(pl, frame)
        frame = frame.with_columns(
            *(pl.coalesce(f"v_{column}", f"{prefix}_pnr_q").alias(f"{prefix}_pnr_n")
              for prefix, column in zip(("hyresgast", "hyresgast2"), IDENTITY_COLUMNS,
                                        strict=True)),
            pl.when("plain_point").then("lat_v").otherwise("lat_f").alias("lat_f"),
            pl.when("plain_point").then("lon_v").otherwise("lon_f").alias("lon_f"),
            *(pl.coalesce(f"v_{raw_name}", name).alias(name) for raw_name, name in (
                ("rum", "rooms"), ("yta", "area_m2"), ("hyra", "rent_sek"),
                ("avtal_fran", "starts_on"), ("avtal_till", "ends_on"))))

        # -- tenants: names, phone numbers and e-mail addresses, mostly all distinct --------
        doubts = [pl.col("objektsnummer") == ""]
        for prefix in ("hyresgast", "hyresgast2"):
            name, phone, email = (f"{prefix}_namn", f"{prefix}_telefon", f"{prefix}_epost")
            identity = f"{prefix}_personnummer"
            compact = pl.col(phone).str.replace_all(PHONE_SEPARATORS, "")
            frame = frame.with_columns(
                pl.when(pl.col(phone) == "").then(None)
                .otherwise(pl.lit("+46") + compact.str.extract(SWEDISH_PHONE, 1))
                .alias(f"{prefix}_phone_n"),
            )
            odd = frame.filter((pl.col(phone) != "") & pl.col(f"{prefix}_phone_n").is_null())
            if odd.height:  # foreign or oddly written: phonenumbers, each number once
                phones = _Mapping([phone], _phone, [f"{prefix}_phone_odd"], ["String"])
                frame = phones.join(pl, frame)
                frame = frame.with_columns(
                    pl.coalesce(f"{prefix}_phone_n", f"{prefix}_phone_odd")
                    .alias(f"{prefix}_phone_n"),
                    pl.col(f"ok_{prefix}_phone_odd").fill_null(True),
                )
            # An address RowParser takes (an @, no space) in ASCII, where lower() is plain.
            doubts.append((pl.col(email) != "") & ~pl.col(email).str.contains(PLAIN_EMAIL))
            frame = frame.with_columns(
                pl.col(name).str.replace_all(PY_SPACES, " ").alias(f"{prefix}_name_n"),
                pl.when(pl.col(email) == "").then(None)
                .otherwise(pl.col(email).str.to_lowercase()).alias(f"{prefix}_email_n"),
                ((pl.col(name) != "") | (pl.col(phone) != "") | (pl.col(email) != "")
                 | (pl.col(identity) != "")).alias(f"{prefix}_present"),
            )
        doubts += [~pl.col(c) for c in frame.columns if c.startswith("ok_")]
        frame = frame.with_columns(pl.any_horizontal(doubts).alias("doubt"))

        # -- the doubted rows: parsed whole, from their raw values, as the general path does -
        lines = frame.filter(pl.col("doubt")).get_column("line")
        parsed, bad = self._parse_doubted(raw.filter(pl.col("line").is_in(lines)))
        good = frame.filter(~pl.col("doubt")).select(self._layout_columns(pl))
        del raw, frame  # a block's text is no longer needed: keep the peak low
        if parsed:
            good = pl.concat([good, self._frame_of(pl, parsed).select(good.columns)],
                             how="vertical_relaxed").sort("line")
        return self._arrange(pl, good, bad)

    def _parse_doubted(self, picked):
        parser = self.parser
        rows: list[Row] = []
        bad: list[tuple[int, str, str, str]] = []  # line, column, reason, objektsnummer
        for values in picked.iter_rows():
            line, values = values[0], parser.clean(list(values[1:]))
            try:
                rows.append(parser.parse(line, values, parser.digest(values)))
            except RowError as exc:
                bad.append((line, exc.column, exc.reason, parser.objektsnummer(values)))
        return rows, bad

    def _frame_of(self, pl, rows: list[Row]):
        """Parsed rows as the columns the vectorised ones have (the parser is ``as_text``:
        numbers and dates come as the text they are staged as)."""
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
            "rooms": column([r.rooms for r in rows], pl.String),
            "area_m2": column([r.area_m2 for r in rows], pl.String),
            "rent_sek": column([r.rent_sek for r in rows], pl.String),
            "avtalsnummer": column([r.avtalsnummer for r in rows], pl.String),
            "kundnummer": column([r.kundnummer for r in rows], pl.String),
            "starts_on": column([r.starts_on for r in rows], pl.String),
            "ends_on": column([r.ends_on for r in rows], pl.String),
            "digest": column([r.digest for r in rows], pl.String),
            "joined": column([None] * len(rows), pl.String),
        }
        for i, prefix in enumerate(("hyresgast", "hyresgast2")):
            data[f"{prefix}_present"] = column([len(r.tenants) > i for r in rows], pl.Boolean)
            data[f"{prefix}_name_n"] = column([tenant(r, i, "name") for r in rows], pl.String)
            data[f"{prefix}_phone_n"] = column([tenant(r, i, "phone") for r in rows], pl.String)
            data[f"{prefix}_email_n"] = column([tenant(r, i, "email") for r in rows], pl.String)
            data[f"{prefix}_pnr_n"] = column([tenant(r, i, "personnummer") for r in rows],
                                             pl.String)
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
            none_if_empty("kundnummer").alias("kundnummer"), "starts_on", "ends_on",
            pl.lit(None, dtype=pl.String).alias("digest"), "joined",
        ]
        # Tenants in slots as RowParser lists them: the second moves up when the first is
        # absent.
        one, two = "hyresgast", "hyresgast2"
        for slot in (0, 1):
            present = pl.col(f"{one}_present") & pl.col(f"{two}_present") if slot else (
                pl.col(f"{one}_present") | pl.col(f"{two}_present"))
            for part in ("name_n", "phone_n", "email_n", "pnr_n"):
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
    def _arrange(self, pl, good, bad) -> dict:
        """Duplicates, SWEREF, then this block's rows of the register's tables."""
        out, seen, next_id = self.result, self.seen, self.next
        errors = out.errors

        # A row is a duplicate when a valid row with its objektsnummer came before it (in
        # this block or an earlier one); a bad row too, which is then reported as that.
        lines = good.get_column("line")
        firsts = seen.lookup(pl, good.get_column("objektsnummer")).fill_null(
            good.select(pl.col("line").min().over("objektsnummer")).to_series())
        keep = firsts == lines
        errors.extend(duplicate(line, first) for line, first in pl.DataFrame(
            {"line": lines, "first": firsts}).filter(~keep).iter_rows())
        kept = good.filter(keep)
        seen.add(pl, kept.get_column("objektsnummer"), kept.get_column("line"))
        if bad:
            earlier = seen.lookup(pl, pl.Series([b[3] for b in bad], dtype=pl.String))
            for (line, column, reason, _number), first in zip(bad, earlier.to_list(),
                                                             strict=True):
                errors.append(duplicate(line, first) if first is not None and first < line
                              else (line, column, reason))
        good = kept

        # SWEREF 99 TM to WGS84, each distinct point once; one off the map drops its row.
        needs = pl.col("lat_f").is_null() & pl.col("north").is_not_null()
        pending = good.filter(needs).select("north", "east").unique()
        if pending.height:
            places = place_sweref(list(pending.iter_rows()))
            pending = pending.with_columns(
                pl.Series("lat_s", [p and p[0] for p in places], dtype=pl.Float64),
                pl.Series("lon_s", [p and p[1] for p in places], dtype=pl.Float64),
                pl.Series("inside", [p is not None for p in places], dtype=pl.Boolean),
            )
            good = _attach(pl, good, pending, ["north", "east"])
            good = good.with_columns(pl.when(needs).then(pl.col("inside")).otherwise(True)
                                     .alias("inside"))
            errors.extend((line, *SWEREF_OFF_MAP) for (line,) in
                          good.filter(~pl.col("inside")).select("line").iter_rows())
            good = good.filter(pl.col("inside")).with_columns(
                pl.coalesce("lat_f", "lat_s").alias("lat_f"),
                pl.coalesce("lon_f", "lon_s").alias("lon_f"),
            ).drop("lat_s", "lon_s", "inside")
        first_object = next_id["objects"]
        next_id["objects"] += good.height
        good = good.with_row_index("object_id", offset=first_object).with_columns(
            pl.col("object_id").cast(pl.Int64))

        properties, entrances, entrance_ids = self._entrances(pl, good)
        good = _attach(pl, good, entrance_ids, ["address_key"])
        agreement_ids, made, people, parties = self._agreements(pl, good)
        objects = good.select(
            pl.col("object_id").alias("id"), "entrance_id", "objektsnummer",
            "object_type", pl.col("lgh").alias("lagenhetsnummer"), "floor", "rooms",
            "area_m2", "rent_sek",
            pl.Series("row_hash", _digests(good), dtype=pl.String),
            agreement_ids.alias("agreement_id"), made.alias("agreement_new"),
            "avtalsnummer", "starts_on", "ends_on")
        return {
            "properties": pl.DataFrame(properties, schema={"id": pl.Int64,
                                                           "designation": pl.String},
                                       orient="row"),
            "entrances": pl.DataFrame(entrances, schema=_schema(pl, STAGING_TYPES["entrances"]),
                                      orient="row"),
            "objects": objects,
            "people": people,
            "parties": parties,
        }

    def _entrances(self, pl, good):
        """Entrances first seen in this block, made from their first row; the last
        coordinates and door code of an entrance in the file win."""
        known, next_id = self.result.entrances, self.next
        groups = good.group_by("address_key", maintain_order=True).agg(
            pl.col("street").first(), pl.col("street_number").first(),
            pl.col("street_letter").first(), pl.col("postnummer_n").first(),
            pl.col("ort_n").first(), pl.col("designation").first(),
            pl.col("lat_f").drop_nulls().last(), pl.col("lon_f").drop_nulls().last(),
            pl.col("door_code").drop_nulls().last(), pl.len().alias("rows"),
        )
        properties, entrances, keys, ids = [], [], [], []
        for (key, street, number, letter, postnummer, ort, designation, lat, lon, door,
             rows) in groups.iter_rows():
            entrance = known.get(key)
            if entrance is None:
                property_id = None
                if designation is not None:
                    property_id = self.properties.get(designation)
                    if property_id is None:
                        property_id = self.properties[designation] = next_id["properties"]
                        next_id["properties"] += 1
                        properties.append((property_id, designation))
                source = "file" if lat is not None else None
                entrance = known[key] = [next_id["entrances"], lat, lon, source, door, rows,
                                         False]
                next_id["entrances"] += 1
                entrances.append((entrance[0], property_id, street, number, letter,
                                  postnummer, ort, key, lat, lon, source, door))
            else:
                if lat is not None and (entrance[1] != lat or entrance[2] != lon):
                    entrance[1], entrance[2], entrance[3], entrance[6] = lat, lon, "file", True
                if door is not None and entrance[4] != door:
                    entrance[4], entrance[6] = door, True
                entrance[5] += rows
            keys.append(key)
            ids.append(entrance[0])
        entrance_ids = pl.DataFrame({"address_key": keys, "entrance_id": ids},
                                    schema={"address_key": pl.String,
                                            "entrance_id": pl.Int64})
        return properties, entrances, entrance_ids

    def _agreements(self, pl, good):
        """Agreements: none for a vacant object without one; an agreement on several objects
        is made by its first row, which also names its tenants; a kundnummer is one
        person, named last as the last row that makes an agreement names it."""
        next_id, agreements, persons = self.next, self.agreements, self.people
        numbers = good.get_column("avtalsnummer")
        known = agreements.lookup(pl, numbers)
        has = good.get_column("hyresgast_present") | numbers.is_not_null()
        new_here = numbers.is_null() | (known.is_null() & numbers.is_first_distinct())
        made = has & new_here & known.is_null()
        new_ids = (made.cast(pl.Int64).cum_sum() - 1 + next_id["agreements"])
        rows = pl.DataFrame({"number": numbers, "known": known, "made": made,
                             "new_id": new_ids, "has": has})
        made_here = rows.filter(pl.col("made") & pl.col("number").is_not_null()).select(
            "number", pl.col("new_id").alias("here"))
        rows = rows.join(made_here, on="number", how="left", maintain_order="left")
        ids = rows.select(
            pl.when(~pl.col("has")).then(None)
            .when(pl.col("made")).then(pl.col("new_id"))
            .otherwise(pl.coalesce("known", "here")).alias("agreement_id"),
        ).get_column("agreement_id")
        next_id["agreements"] += int(made.sum())
        agreements.add(pl, made_here.get_column("number"), made_here.get_column("here"))

        # The tenants of the rows that make an agreement. The first listed has the row's
        # kundnummer: a kundnummer seen before (or earlier in this block) is that person.
        makers = good.with_columns(ids.alias("agreement_id")).filter(made)
        first = makers.filter(pl.col("hyresgast_present")).select(
            "object_id", "agreement_id", pl.col("hyresgast_name_n").alias("name"),
            pl.col("hyresgast_phone_n").alias("phone"),
            pl.col("hyresgast_email_n").alias("email"), "kundnummer",
            pl.col("hyresgast_pnr_n").alias("personnummer"))
        numbers = first.get_column("kundnummer")
        before = persons.lookup(pl, numbers)
        first = first.with_columns(
            before.alias("before"),
            (numbers.is_null() | (before.is_null() & numbers.is_first_distinct()))
            .alias("new"))
        second = makers.filter(pl.col("hyresgast2_present")).select(
            "object_id", "agreement_id", pl.col("hyresgast2_name_n").alias("name"),
            pl.col("hyresgast2_phone_n").alias("phone"),
            pl.col("hyresgast2_email_n").alias("email"),
            pl.lit(None, dtype=pl.String).alias("kundnummer"),
            pl.col("hyresgast2_pnr_n").alias("personnummer"))
        people = pl.concat([
            first.filter("new").select("object_id", pl.lit(1, dtype=pl.Int64)
                                       .alias("position"), "name", "phone", "email",
                                       "kundnummer", "personnummer"),
            second.select("object_id", pl.lit(2, dtype=pl.Int64).alias("position"),
                          "name", "phone", "email", "kundnummer", "personnummer"),
        ]).sort("object_id", "position").with_row_index("id", offset=next_id["people"]) \
            .with_columns(pl.col("id").cast(pl.Int64))
        next_id["people"] += people.height
        numbered = people.filter(pl.col("kundnummer").is_not_null()).select(
            "kundnummer", pl.col("id").alias("here"))
        persons.add(pl, numbered.get_column("kundnummer"), numbered.get_column("here"))
        first = first.join(numbered, on="kundnummer", how="left", maintain_order="left") \
            .join(people.filter(pl.col("position") == 1).select(
                "object_id", pl.col("id").alias("own")), on="object_id", how="left",
                maintain_order="left") \
            .with_columns(pl.coalesce("own", "before", "here").alias("person_id"))
        # Named again under a kundnummer: the person takes the later values (last wins).
        again = first.filter(~pl.col("new")).select("person_id", "name", "phone", "email",
                                                    "personnummer")
        self.result.person_updates.update(
            (person_id, (name, phone, email, personnummer))
            for person_id, name, phone, email, personnummer in again.iter_rows())
        parties = pl.concat([
            first.select("object_id", "agreement_id", "person_id",
                         pl.lit(1, dtype=pl.Int64).alias("position")),
            second.join(people.filter(pl.col("position") == 2).select(
                "object_id", pl.col("id").alias("person_id")), on="object_id", how="left",
                maintain_order="left").select(
                "object_id", "agreement_id", "person_id",
                pl.lit(2, dtype=pl.Int64).alias("position")),
        ]).sort("object_id", "position").select("agreement_id", "person_id", "position")
        return (ids, made.cast(pl.Int64), people.select("id", "name", "phone", "email",
                                                        "kundnummer", "personnummer"),
                parties)

    # -- writing a chunk ---------------------------------------------------------------------
    def _write(self, number: int, tables: dict) -> Path:
        if self.output == "arrow":
            return self._write_arrow(number, tables)
        import adbc_driver_sqlite.dbapi as adbc
        import polars as pl

        path = self.directory / f"chunk-{number:05d}.db"
        with adbc.connect(str(path), autocommit=True) as connection:
            with connection.cursor() as cursor:
                # A scratch file, read once; in pages of 64 KiB: a sixteenth of the B-tree
                # pages and writes of 4 KiB ones (a fifth less CPU for the whole write).
                cursor.execute("PRAGMA page_size=65536")
                cursor.execute("PRAGMA journal_mode=OFF")
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("BEGIN")
                # Every image has the staging schema (STAGING_TABLES), created the same way
                # in the same order (same pages, same schema cookie), so that the writer's
                # prepared statements stay right from one image to the next.
                for name, columns in STAGING_TABLES.items():
                    cursor.execute(f"CREATE TABLE {name} ({columns})")
                for name in STAGING_TABLES:
                    frame = tables[name]
                    if frame.height:
                        frame = frame.with_columns(
                            pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                            if t == pl.Null)
                        cursor.adbc_ingest(name, frame, mode="append")
                cursor.execute("COMMIT")
        return path


    def _write_arrow(self, number: int, tables: dict) -> Path:
        """A folder with one Arrow IPC file per staging table that has rows (uncompressed:
        read once, at once, by the writer on PostgreSQL)."""
        path = self.directory / f"chunk-{number:05d}"
        path.mkdir()
        for name in STAGING_TABLES:
            frame = tables[name]
            if frame.height:
                frame.write_ipc(path / f"{name}.arrow", compression="uncompressed")
        return path


# -- the per-value functions -----------------------------------------------------------------

def _schema(pl, spec: dict[str, str]) -> dict:
    return {name: getattr(pl, kind) for name, kind in spec.items()}


def _safe(function):
    """``function``'s result as a tuple, or None where RowParser finds the value bad."""
    def safe(*values):
        try:
            result = function(*values)
        except RowError:
            return None
        return result if isinstance(result, tuple) else (result,)
    return safe


def _object_type(parser: RowParser):
    return _safe(lambda raw: parser.object_type(raw) if raw else "lägenhet")


def _floor(parser: RowParser):
    def floor(lgh: str, raw_floor: str):
        if lgh:
            return (lgh, parser.lgh_floor(lgh))
        return (None, parser.vaning(raw_floor) if raw_floor else None)
    return _safe(floor)


def _point(parser: RowParser):
    def point(raw_lat, raw_lon, raw_north, raw_east):
        if raw_lat or raw_lon:
            return (*parser._point(raw_lat, raw_lon), None, None)
        if raw_north or raw_east:
            return (None, None, *parser._sweref(raw_north, raw_east))
        return (None, None, None, None)
    return _safe(point)


def _optional(method):
    """A RowParser method for a column that may be empty (then None)."""
    return _safe(lambda raw: method(raw) if raw else None)


def _decimal(parser: RowParser, which: int, column: str):
    return _optional(lambda raw: parser._decimal(which, raw, column))


def _swedish_numbers(pl, frame):
    """Swedish personnummer and samordningsnummer in the usual shapes (``SWEDISH_NUMBER``),
    checked as columns exactly as ``identity_number`` checks them (python-stdnum's century
    rule and check digit): ``v_<column>`` the 12-digit form, ``ok_v_<column>`` false for one
    of that shape that is not valid (its row is parsed whole: a row error), ``k_<column>``
    the values left for ``identity_number`` itself (any other shape)."""
    this_year = date.today().year
    for column in IDENTITY_COLUMNS:
        parts = pl.col(column).str.extract_groups(SWEDISH_NUMBER.pattern)
        century, yy, mm, dd, sign, tail = (parts.struct.field(str(i)) for i in range(1, 7))
        y = yy.cast(pl.Int32, strict=False)
        year = pl.when(century.is_null()).then(
            this_year - (this_year - y) % 100 - pl.when(sign == "+").then(100).otherwise(0)
        ).otherwise((century + yy).cast(pl.Int32, strict=False))
        day = dd.cast(pl.Int32, strict=False)
        real_day = pl.when(day > 60).then(day - 60).otherwise(day)
        born = pl.concat_str([year.cast(pl.String).str.zfill(4), mm,
                              real_day.cast(pl.String).str.zfill(2)], separator="-") \
            .str.to_date("%Y-%m-%d", strict=False)
        digits = yy + mm + dd + tail
        # Luhn from the left over YYMMDDNNNC: every other digit doubled, its digits summed.
        values = [digits.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
        luhn = pl.sum_horizontal(
            [d * 2 - pl.when(d >= 5).then(9).otherwise(0) if i % 2 == 0 else d
             for i, d in enumerate(values)]) % 10 == 0
        shaped = parts.struct.field("6").is_not_null()
        valid = shaped & born.is_not_null() & luhn
        frame = frame.with_columns(
            pl.when(valid).then(year.cast(pl.String).str.zfill(4) + mm + dd + tail)
            .otherwise(None).alias(f"v_{column}"),
            (~shaped | valid).fill_null(True).alias(f"ok_v_{column}"),
            pl.when(shaped.fill_null(False)).then(pl.lit("")).otherwise(pl.col(column))
            .alias(f"k_{column}"),
        )
    return frame


def _phone(raw: str):
    """An oddly written phone number, as RowParser takes it (None: not a phone number)."""
    phone = normalise_phone_fast(raw)
    return (phone,) if phone is not None else None


def _digests(good) -> list[str]:
    """Each row's digest (``RowParser.digest``): the doubted rows come with theirs.

    ``digest_of``'s formula, taken apart: the joined values' UTF-8 bytes come straight from
    polars (no str made and encoded again), each hashed by blake2b with no Python frame."""
    import polars as pl

    blake2b = partial(hashlib.blake2b, digest_size=16)
    digests = [blake2b(j).hexdigest() if j is not None else None
               for j in good.get_column("joined").cast(pl.Binary).to_list()]
    if None in digests:
        given = good.get_column("digest").to_list()
        digests = [d if d is not None else g for d, g in zip(digests, given, strict=True)]
    return digests
