"""Make's CSV app: parse CSV into bundles (``csv:ParseCSV``) and create CSV text from the bundles
an aggregator collects (``csv:CreateAggregator`` "Create CSV", ``csv:CreateAdvancedAggregator``
"Create CSV (advanced)").

Parse CSV outputs one bundle per row with the columns as ``col1``, ``col2`` …; a header row, when
the CSV has one, is skipped. Create CSV writes the mapped fields of every collected bundle as one
row (the field names as the header row when asked), quoting a value only when it must.

No stored Make export of these modules could be read, so their parameter names follow Make's
form (see docs/modules/csv.md); values Make writes for the delimiter (``,`` ``;`` tab …) and
their names (``comma``, ``semicolon``, ``tab``, ``other`` with ``delimiter``) are both accepted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError, InvalidConfigurationError
from engine.runtime.record import to_json_value
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec

_LAX = ConfigDict(extra="allow")
MAX_ROWS = 100_000

DELIMITERS: Mapping[str, str] = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "space": " ",
    "pipe": "|",
    ",": ",",
    ";": ";",
    "\t": "\t",
    " ": " ",
    "|": "|",
}
NEWLINES: Mapping[str, str] = {"lf": "\n", "crlf": "\r\n", "\n": "\n", "\r\n": "\r\n"}


class _DelimiterChoice(BaseModel):
    model_config = _LAX

    delimiterType: str = ","
    delimiter: str = ""

    def separator(self) -> str:
        """The one character between values (``other``: the custom ``delimiter``)."""
        chosen = self.delimiter if self.delimiterType == "other" else None
        chosen = chosen if chosen is not None else DELIMITERS.get(self.delimiterType)
        if chosen is None or len(chosen) != 1:
            raise InvalidConfigurationError(
                f"the CSV delimiter must be one character, not {self.delimiterType!r}"
                + (f" / {self.delimiter!r}" if self.delimiterType == "other" else "")
            )
        return chosen


class ParseCsvParameters(_DelimiterChoice):
    columns: int = Field(default=0, ge=0, strict=False)
    containsHeaders: bool = False
    skipEmptyLines: bool = True


class ParseCsvInput(BaseModel):
    model_config = _LAX

    csv: Any = None


def parse_csv(call: ModuleCall) -> Iterator[Bundle]:
    """One bundle per row: ``col1`` … ``colN`` (N = ``columns``, else the row's own width)."""
    settings = call.parameters_as(ParseCsvParameters)
    text = call.input_as(ParseCsvInput).csv
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    rows = _rows(str(text or "").lstrip("\ufeff"), settings)
    if settings.containsHeaders:
        rows = rows[1:]
    for position, row in enumerate(rows, start=1):
        width = settings.columns or len(row)
        cells = (row + [""] * width)[:width]
        columns = {f"col{index}": value for index, value in enumerate(cells, start=1)}
        yield {**columns, "__IMTINDEX__": position, "__IMTLENGTH__": len(rows)}


def _rows(text: str, settings: ParseCsvParameters) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=settings.separator(), strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if settings.skipEmptyLines and not any(cell.strip() for cell in row):
                continue
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise DataError(f"the CSV has more than {MAX_ROWS} rows")
    except csv.Error as error:
        raise DataError(f"the CSV cannot be read at line {reader.line_num}: {error}") from None
    return rows


class CreateCsvParameters(_DelimiterChoice):
    feeder: int
    includeHeaders: bool = True
    newline: str = "\n"


def create_csv(items: Sequence[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``text``: one CSV row per collected bundle, the field names first when asked."""
    settings = CreateCsvParameters.model_validate(parameters)
    rows = [dict(item) if isinstance(item, Mapping) else {"value": item} for item in items]
    names = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO(newline="")
    newline = NEWLINES.get(settings.newline, "\n")
    writer = csv.writer(out, delimiter=settings.separator(), lineterminator=newline)
    if settings.includeHeaders and names:
        writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return {"text": out.getvalue().removesuffix(newline)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(to_json_value(value), separators=(",", ":"), ensure_ascii=False)
    return str(to_json_value(value))


class CsvOutput(BaseModel):
    text: str


_DATA_STRUCTURE = (
    "the data structure names the columns for the editor; Switchboard writes the mapped fields "
    "in their order"
)

CSV_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="csv:ParseCSV",
        kind=ModuleKind.SEARCH,
        label="Parse CSV",
        parameters=ParseCsvParameters,
        input=ParseCsvInput,
        run=parse_csv,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="csv:CreateAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Create CSV",
        parameters=CreateCsvParameters,
        output=CsvOutput,
        aggregate=create_csv,
        free_form=frozenset({"mapper"}),
    ),
    ModuleSpec(
        id="csv:CreateAdvancedAggregator",
        kind=ModuleKind.AGGREGATOR,
        label="Create CSV (advanced)",
        parameters=CreateCsvParameters,
        output=CsvOutput,
        aggregate=create_csv,
        free_form=frozenset({"mapper"}),
        ignored_keys={"type": _DATA_STRUCTURE},
    ),
)
