"""Data specifications: one TOML file per dataset kind in ``configs/datasets/``.

A specification names the kind's record key, and for every field its type, whether it is
required, the header names real systems export for it (aliases) and whether it is used
for matching only (masked for reviewers). See ``configs/datasets/README.md``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from matching.errors import ConfigError
from matching.toml_files import read_toml
from matching.wording import did_you_mean

FIELD_TYPES = (
    "name",
    "date",
    "ni_number",
    "postcode",
    "uprn",
    "money_pence",
    "sort_code",
    "account_number",
    "email",
    "phone",
    "code",
    "flag",
    "text",
    "number",
)
NAME_PARTS = ("title", "forename", "middle", "surname", "full")
FIELD_KEYS = {
    "type",
    "required",
    "aliases",
    "matching_only",
    "description",
    "part",
    "values",
    "max_length",
    "address_line",
}
SPEC_KEYS = {"kind", "title", "description", "held_by", "record_key", "subject", "household", "fields"}


def configs_dir() -> Path:
    """The project's ``configs/`` folder (or $MATCHING_CONFIGS)."""
    env = os.environ.get("MATCHING_CONFIGS")
    if env:
        if not (Path(env) / "datasets").is_dir():
            raise ConfigError(
                f"MATCHING_CONFIGS={env}: no datasets/ folder there, so no data specification or job can be found.\n"
                "  Fix: point it at a folder laid out like the project's configs/ (datasets/, jobs/, models/), or unset it."
            )
        return Path(env)
    return Path(__file__).resolve().parents[2] / "configs"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a data specification."""

    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    matching_only: bool = False
    description: str = ""
    part: str | None = None  # for names: title, forename, middle, surname, full
    values: tuple[str, ...] = ()  # for codes: the allowed values (upper case), if closed
    max_length: int | None = None
    address_line: int | None = None  # 1-4 when the field is a line of the subject's address


@dataclass(frozen=True)
class DatasetSpec:
    """The data specification of one dataset kind."""

    kind: str
    title: str
    description: str
    held_by: str
    record_key: str
    subject: str  # "person", "property" or "transaction": what one record describes
    fields: tuple[FieldSpec, ...]
    household: bool = False  # records are people at home: ingest lists the others at each property
    path: Path = field(default=Path(), compare=False)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required or f.name == self.record_key)

    @property
    def matching_only_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.matching_only)

    @property
    def address_lines(self) -> tuple[FieldSpec, ...]:
        lines = [f for f in self.fields if f.address_line]
        return tuple(sorted(lines, key=lambda f: f.address_line or 0))

    def of_type(self, ftype: str) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.type == ftype)


def _fail(path: Path, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {problem}\n  Fix: {fix}")


def _parse_field(path: Path, name: str, raw: Any) -> FieldSpec:
    key = f"fields.{name}"
    if not isinstance(raw, Mapping):
        raise _fail(path, key, "must be a table", f"write [fields.{name}] with type = ...")
    unknown = set(raw) - FIELD_KEYS
    if unknown:
        bad = sorted(unknown)[0]
        close = difflib.get_close_matches(bad, FIELD_KEYS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(FIELD_KEYS))}"
        raise _fail(path, f"{key}.{bad}", "unknown setting", hint)
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        raise _fail(path, f"{key}.type", f"unknown type {ftype!r}", f"use one of {', '.join(FIELD_TYPES)}")
    part = raw.get("part")
    if part is not None and (ftype != "name" or part not in NAME_PARTS):
        raise _fail(path, f"{key}.part", f"{part!r} is not allowed here", f"only name fields take part, one of {', '.join(NAME_PARTS)}")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise _fail(path, f"{key}.aliases", "must be a list of strings", 'aliases = ["Surname", "Last Name"]')
    line = raw.get("address_line")
    if line is not None and line not in (1, 2, 3, 4):
        raise _fail(path, f"{key}.address_line", f"{line!r} is not 1-4", "number the address lines 1 to 4")
    for flag in ("required", "matching_only"):
        if not isinstance(raw.get(flag, False), bool):
            raise _fail(path, f"{key}.{flag}", f"{raw[flag]!r} is not true or false", f"{flag} = true")
    values = raw.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _fail(path, f"{key}.values", "must be a list of strings", 'values = ["SPD", "NONE"]')
    return FieldSpec(
        name=name,
        type=ftype,
        required=bool(raw.get("required", False)),
        aliases=tuple(aliases),
        matching_only=bool(raw.get("matching_only", False)),
        description=str(raw.get("description", "")),
        part=part,
        values=tuple(str(v).upper() for v in values),
        max_length=raw.get("max_length"),
        address_line=line,
    )


def parse_spec(path: Path, data: Mapping[str, Any]) -> DatasetSpec:
    """Validate a parsed specification; errors name the file, the key and the fix."""
    unknown = set(data) - SPEC_KEYS
    if unknown:
        bad = sorted(unknown)[0]
        close = difflib.get_close_matches(bad, SPEC_KEYS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(SPEC_KEYS))}"
        raise _fail(path, bad, "unknown setting", hint)
    for key in ("kind", "title", "record_key"):
        if not isinstance(data.get(key), str) or not data.get(key):
            raise _fail(path, key, "missing", f'add {key} = "..." at the top of the file')
    kind = data["kind"]
    if kind != path.stem:
        raise _fail(path, "kind", f"{kind!r} does not match the file name", f'rename the file to {kind}.toml or set kind = "{path.stem}"')
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, Mapping) or not raw_fields:
        raise _fail(path, "fields", "no fields", "add [fields.<name>] tables")
    fields = tuple(_parse_field(path, name, raw) for name, raw in raw_fields.items())
    names = [f.name for f in fields]
    if data["record_key"] not in names:
        raise _fail(path, "record_key", f"{data['record_key']!r} is not a field", f"name one of: {', '.join(names)}")
    subject = data.get("subject", "person")
    if subject not in ("person", "property", "transaction"):
        raise _fail(path, "subject", f"{subject!r} is unknown", "use person, property or transaction")
    household = data.get("household", False)
    if not isinstance(household, bool):
        raise _fail(path, "household", f"{household!r} is not true or false", "household = true (records are people at their home)")
    if household and not (any(f.part == "surname" for f in fields) and any(f.address_line for f in fields) and any(f.type == "postcode" for f in fields)):
        raise _fail(path, "household", "needs a surname field, address lines and a postcode field", "add them, or remove household")
    seen: dict[str, str] = {}
    from matching.ingest.headers import (
        normalise_header,  # local: specs must not import ingest at module load
    )

    for f in fields:
        for label in (f.name, *f.aliases):
            norm = normalise_header(label)
            if norm in seen and seen[norm] != f.name:
                raise _fail(path, f"fields.{f.name}.aliases", f"{label!r} also names field {seen[norm]!r}", "give each header name to one field only")
            seen[norm] = f.name
    return DatasetSpec(
        kind=kind,
        title=data["title"],
        description=str(data.get("description", "")),
        held_by=str(data.get("held_by", "")),
        record_key=data["record_key"],
        subject=subject,
        fields=fields,
        household=household,
        path=path,
    )


def load_spec_file(path: Path) -> DatasetSpec:
    return parse_spec(path, read_toml(path, "data specification"))


@cache
def _load_cached(path: str, mtime: float) -> DatasetSpec:
    return load_spec_file(Path(path))


def list_kinds(root: Path | None = None) -> list[str]:
    folder = (root or configs_dir()) / "datasets"
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_spec(kind: str, root: Path | None = None) -> DatasetSpec:
    """Load the specification of a dataset kind, or say which kinds exist."""
    path = (root or configs_dir()) / "datasets" / f"{kind}.toml"
    if not path.exists():
        kinds = list_kinds(root)
        hint = did_you_mean(kind, kinds)
        raise ConfigError(f"Unknown dataset kind '{kind}'.{hint}\n  Known kinds: {', '.join(kinds)}")
    return _load_cached(str(path), path.stat().st_mtime)
