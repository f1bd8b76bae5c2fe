"""Header mapping: which column of a submitted file holds which field of the spec."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matching.errors import UserError
from matching.specs import DatasetSpec
from matching.toml_files import read_toml
from matching.wording import did_you_mean

if TYPE_CHECKING:
    from matching.ingest.readers import HeaderCandidate

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(label: str) -> str:
    """Case, space and punctuation-insensitive form of a header: 'Forename(s)' -> 'forenames'."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", text.lower())


@dataclass(frozen=True)
class HeaderMapping:
    """Which file column (by index) holds which spec field, and what was left over."""

    columns: dict[str, int]  # field name -> column index in the file
    ignored: tuple[str, ...]  # file headers that name no field of the specification
    how: dict[str, str]  # field name -> "mapping file" | "exact" | "alias"
    # Headers that name a field read from another column (the one a mapping file names for
    # it, or one whose name comes first among the field's names): (header, field).
    passed_over: tuple[tuple[str, str], ...] = ()


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
    spec: DatasetSpec,
    headers: list[str],
    filename: str,
    mapping: dict[str, str] | None = None,
    candidates: Callable[[], Sequence[HeaderCandidate]] | None = None,
) -> HeaderMapping:
    """Map a file's headers to the spec's fields, or explain exactly what is missing.

    ``candidates`` are the rows where the header may be instead (a title line above it, another
    sheet): read only when a required field is missing, to say where the header looks to be."""
    mapping = mapping or {}
    columns, how = _match(spec, headers, mapping, filename, candidates)

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
        ]
        also = [f"  Also missing: {', '.join(m.name for m in missing[1:])}"] if len(missing) > 1 else []
        elsewhere = _header_elsewhere(spec, mapping, candidates)
        if elsewhere:
            lines += [*also, f"  Fix: {elsewhere}"]
            raise UserError("\n".join(lines))
        lines.append(f"  Accepted names for it: {_list(labels)}")
        if closest:
            lines.append(f"  Closest header in the file: '{closest[0]}' (like '{closest[1]}')")
        lines += also
        lines.append(
            "  Fix: rename the column, or map it in a TOML file passed with --mapping:\n"
            f'    [columns]\n    "<your header>" = "{f.name}"'
        )
        raise UserError("\n".join(lines))
    names: dict[str, str] = {}  # each name of a field, normalised -> the field
    for f in spec.fields:
        for label in (f.name, *f.aliases):
            names.setdefault(normalise_header(label), f.name)
    used = set(columns.values())
    ignored: list[str] = []
    passed_over: list[tuple[str, str]] = []
    for i, h in enumerate(headers):
        if i in used or not h:
            continue
        named = names.get(normalise_header(h))
        if named is not None and named in columns:  # a field of the specification, read from another column
            passed_over.append((h, named))
        else:
            ignored.append(h)
    return HeaderMapping(columns=columns, ignored=tuple(ignored), how=how, passed_over=tuple(passed_over))


def _match(
    spec: DatasetSpec,
    headers: list[str],
    mapping: dict[str, str],
    filename: str,
    candidates: Callable[[], Sequence[HeaderCandidate]] | None = None,
    *,
    strict: bool = True,
) -> tuple[dict[str, int], dict[str, str]]:
    """Each field's column, by the mapping file, then the field's own name, then its aliases;
    and how each was found. ``strict``: a mapping file that names a column not in the file, or
    two columns for one field, and a field whose name the file has twice, are refused; else
    they are passed by (the match of a row that may be the header)."""
    by_norm: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        if h:
            by_norm.setdefault(normalise_header(h), []).append(i)
    fields = {f.name: f for f in spec.fields}
    columns: dict[str, int] = {}
    how: dict[str, str] = {}
    mapped_from: dict[str, str] = {}  # field name -> the mapping file's header for it

    for header, field_name in mapping.items():
        if field_name not in fields:
            if not strict:
                continue
            hint = did_you_mean(field_name, fields)
            raise UserError(
                f"mapping file: '{header}' maps to unknown field '{field_name}' of {spec.kind}.{hint}\n"
                f"  Fix: map it to one of: {', '.join(fields)}."
            )
        # The header as written first: 'Surname' and 'SURNAME' are two columns a mapping may choose between.
        idx = [i for i, h in enumerate(headers) if h and h == header.strip()] or by_norm.get(normalise_header(header), [])
        if not strict:
            if idx and field_name not in columns:
                columns[field_name] = idx[0]
            continue
        if not idx:
            elsewhere = _header_elsewhere(spec, mapping, candidates)
            raise UserError(
                f"mapping file: column '{header}' is not in {filename}.\n  Headers found: {_list(headers)}\n"
                + (f"  Fix: {elsewhere}" if elsewhere else f"  Fix: write the header as {filename} has it, or delete the line for '{header}'.")
            )
        if len(idx) > 1:
            raise UserError(
                f"{filename}: the header '{headers[idx[0]]}' appears {len(idx)} times (columns "
                f"{', '.join(str(i + 1) for i in idx)}), so the mapping file's '{header}' = '{field_name}' is ambiguous.\n"
                "  Fix: rename one of the columns so that each header is different, and ingest the file again."
            )
        if field_name in columns and columns[field_name] != idx[0]:
            raise UserError(
                f"mapping file: '{mapped_from[field_name]}' and '{header}' are both mapped to field '{field_name}', "
                "which is read from one column.\n"
                f"  Fix: keep the line for the column that holds {field_name}; delete the other, or map it to another field."
            )
        columns[field_name] = idx[0]
        how[field_name] = "mapping file"
        mapped_from[field_name] = header

    for f in spec.fields:
        if f.name in columns:
            continue
        for label, kind in ((f.name, "exact"), *((a, "alias") for a in f.aliases)):
            found = by_norm.get(normalise_header(label))
            if found and not any(found[0] == used for used in columns.values()):
                if len(found) > 1 and strict:
                    same = len({headers[i] for i in found}) == 1
                    raise UserError(
                        f"{filename}: the header '{headers[found[0]]}' appears {len(found)} times (columns "
                        f"{', '.join(str(i + 1) for i in found)}), so field '{f.name}' is ambiguous.\n"
                        + ("  Fix: rename one of the columns, and ingest the file again." if same else
                           "  Fix: rename one of the columns, or name the one to use in a mapping file (--mapping).")
                    )
                columns[f.name] = found[0]
                how[f.name] = kind
                break
    return columns, how


def _header_elsewhere(
    spec: DatasetSpec, mapping: dict[str, str], candidates: Callable[[], Sequence[HeaderCandidate]] | None
) -> str | None:
    """What to do if the header row read is not the header but a row that may be holds every
    required field (a title line above the header, notes on the first sheet), else None."""
    if candidates is None:
        return None
    for candidate in candidates():
        columns, _ = _match(spec, candidate.headers, mapping, "", strict=False)
        if all(f.name in columns for f in spec.required_fields):
            return candidate.fix
    return None


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
