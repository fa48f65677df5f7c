"""Reading the office's spreadsheets: CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX, with Chinese or English headers."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

XLSX_SUFFIXES = {".xlsx", ".xlsm"}


class TableError(ValueError):
    """The file cannot be read as a table at all."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line (CSV) or row number (XLSX) in the file, as the office sees it
    values: dict[str, str]  # canonical column -> stripped text ("" when empty)


def header_key(text: str) -> str:
    """'面积（m²）' -> '面积', ' Phone ' -> 'phone'."""
    text = re.split(r"[(（\[]", text, maxsplit=1)[0]
    return re.sub(r"[\s_\-]+", "", text).lower()


def read_table(path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> list[Row]:
    """Rows of the first sheet keyed by canonical column names; blank rows are skipped."""
    raw = _xlsx_rows(path) if path.suffix.lower() in XLSX_SUFFIXES else _csv_rows(path)
    lookup = {header_key(alias): column for column, names in aliases.items() for alias in (column, *names)}
    header: dict[int, str] | None = None
    rows: list[Row] = []
    for line, cells in raw:
        if not any(cells):
            continue
        if header is None:
            header = {i: lookup[header_key(c)] for i, c in enumerate(cells) if header_key(c) in lookup}
            missing = [c for c in required if c not in header.values()]
            if missing:
                raise TableError(line, f"missing column(s): {', '.join(missing)} (header: {', '.join(cells)})")
            continue
        values = {column: "" for column in aliases}
        for i, column in header.items():
            if i < len(cells):
                values[column] = cells[i]
        rows.append(Row(line, values))
    if header is None:
        raise TableError(1, "the file is empty")
    return rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 1502 and 13900321502 as floats
    return str(value).strip()


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableError(1, f"cannot open {path.name} as XLSX: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            (n, [_cell_text(v) for v in values]) for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, the superset of the GBK that Excel writes on Chinese Windows."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise TableError(1, "the file is neither UTF-8 nor GBK text") from exc


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    text = decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if any(d in first for d in ",\t;") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise TableError(reader.line_num, f"broken CSV: {exc}") from exc
    return rows
