"""Header mapping: which column of a submitted file holds which field of the spec."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from matching.errors import UserError
from matching.specs import DatasetSpec
from matching.toml_files import read_toml

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(label: str) -> str:
    """Case, space and punctuation-insensitive form of a header: 'Forename(s)' -> 'forenames'."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", text.lower())


@dataclass(frozen=True)
class HeaderMapping:
    """Which file column (by index) holds which spec field, and what was left over."""

    columns: dict[str, int]  # field name -> column index in the file
    ignored: tuple[str, ...]  # file headers that map to no field
    how: dict[str, str]  # field name -> "mapping file" | "exact" | "alias"


def load_mapping_file(path: Path) -> dict[str, str]:
    """A TOML mapping file: ``[columns]`` with ``"File Header" = "field_name"`` lines."""
    data = read_toml(path, "mapping file", UserError)
    columns = data.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise UserError(
            f'{path}: expected a [columns] table of "File Header" = "field_name" lines.\n'
            '  Example:\n    [columns]\n    "Emp No" = "employee_ref"'
        )
    return dict(columns)


def map_headers(
    spec: DatasetSpec, headers: list[str], filename: str, mapping: dict[str, str] | None = None
) -> HeaderMapping:
    """Map a file's headers to the spec's fields, or explain exactly what is missing."""
    mapping = mapping or {}
    by_norm: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        if h:
            by_norm.setdefault(normalise_header(h), []).append(i)
    fields = {f.name: f for f in spec.fields}
    columns: dict[str, int] = {}
    how: dict[str, str] = {}

    for header, field_name in mapping.items():
        if field_name not in fields:
            close = difflib.get_close_matches(field_name, list(fields), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise UserError(f"mapping file: '{header}' maps to unknown field '{field_name}' of {spec.kind}.{hint}")
        idx = by_norm.get(normalise_header(header))
        if not idx:
            raise UserError(
                f"mapping file: column '{header}' is not in {filename}.\n  Headers found: {_list(headers)}"
            )
        columns[field_name] = idx[0]
        how[field_name] = "mapping file"

    for f in spec.fields:
        if f.name in columns:
            continue
        for label, kind in ((f.name, "exact"), *((a, "alias") for a in f.aliases)):
            idx = by_norm.get(normalise_header(label))
            if idx and not any(idx[0] == used for used in columns.values()):
                if len(idx) > 1:
                    raise UserError(
                        f"{filename}: the header '{headers[idx[0]]}' appears {len(idx)} times (columns "
                        f"{', '.join(str(i + 1) for i in idx)}), so field '{f.name}' is ambiguous.\n"
                        "  Rename one of the columns, or name the one to use in a mapping file (--mapping)."
                    )
                columns[f.name] = idx[0]
                how[f.name] = kind
                break

    missing = [f for f in spec.required_fields if f.name not in columns]
    if missing:
        f = missing[0]
        used = set(columns.values())
        spare = [h for i, h in enumerate(headers) if i not in used and h]
        labels = [f.name, *f.aliases]
        closest = _closest(spare, labels)
        lines = [
            f"{filename}: required column '{f.name}' ({spec.title}) is missing.",
            f"  Headers found: {_list(headers)}",
            f"  Accepted names for it: {_list(labels)}",
        ]
        if closest:
            lines.append(f"  Closest header in the file: '{closest[0]}' (like '{closest[1]}')")
        if len(missing) > 1:
            lines.append(f"  Also missing: {', '.join(m.name for m in missing[1:])}")
        lines.append(
            "  Fix: rename the column, or map it in a TOML file passed with --mapping:\n"
            f'    [columns]\n    "<your header>" = "{f.name}"'
        )
        raise UserError("\n".join(lines))
    used = set(columns.values())
    ignored = tuple(h for i, h in enumerate(headers) if i not in used and h)
    return HeaderMapping(columns=columns, ignored=ignored, how=how)


def _closest(headers: list[str], labels: list[str]) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for h in headers:
        for label in labels:
            score = difflib.SequenceMatcher(None, normalise_header(h), normalise_header(label)).ratio()
            if score >= 0.6 and (best is None or score > best[0]):
                best = (score, h, label)
    return (best[1], best[2]) if best else None


def _list(items: list[str]) -> str:
    shown = [f"'{i}'" for i in items[:30]]
    more = f" and {len(items) - 30} more" if len(items) > 30 else ""
    return ", ".join(shown) + more if shown else "(none)"
