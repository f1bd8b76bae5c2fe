"""Job configs: ``configs/jobs/<job>.toml``, validated on load.

A job names two dataset kinds (or one kind across bodies), how to link them (blocking
rules, comparisons, threshold, training recipe), the rule that makes a linked pair an
inconsistency, the plain-English explanation, the owning body and the priority inputs.
Every message names the file, the key and the fix. See ``configs/jobs/README.md``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matching.errors import ConfigError
from matching.ingest.submissions import BODY_PATTERN
from matching.rules.check import check_linkage_sql
from matching.specs import DatasetSpec, configs_dir, list_kinds, load_spec
from matching.toml_files import read_toml
from matching.wording import did_you_mean

if TYPE_CHECKING:
    from matching.rules.compile import CompiledJob

# Columns ingest adds to every standardised dataset (beyond the spec's fields).
DERIVED_NAME_COLUMNS = ("forename", "forename_canonical", "forename_phonetic", "surname_phonetic")
SCORE_COLUMNS = ("match_probability", "match_weight")

TOP_KEYS = {"include", "title", "description", "owning_body", "review", "datasets", "linkage", "training", "rule", "priority"}
DATASET_KEYS = {"left", "right", "across_bodies", "within_body", "lookups"}
LOOKUP_KEYS = {"side", "kind", "on", "columns", "prefix", "latest_by", "list"}
LINKAGE_KEYS = {"threshold", "blocking_rules", "more_blocking_rules", "comparisons", "subject"}
COMPARISON_KEYS = {"name", "comparison", "column", "args", "term_frequency_adjustments", "levels"}
SUBJECTS = ("person", "property", "transaction")
LEVEL_KEYS = {"sql", "label", "null", "else", "tf_column", "tf_weight", "m", "u", "fix_m", "fix_u"}
TRAINING_KEYS = {"probability_two_random_records_match", "deterministic_rules", "recall", "u_max_pairs", "seed", "em_blocking_rules", "em_max_pairs"}
RULE_KEYS = {"where", "explanation", "values", "not_if_also_linked", "set_aside_unless"}
PRIORITY_KEYS = {"since", "until", "money_pence", "strong_identifiers"}
STRONG_IDENTIFIERS = {
    "ni_number": "l.ni_number = r.ni_number",
    "dob": "l.dob = r.dob",
    "bank_account": "l.sort_code = r.sort_code AND l.account_number = r.account_number",
    "uprn": "l.uprn = r.uprn",
    "email": "l.email = r.email",
    "upn": "l.upn = r.upn",
}


@dataclass(frozen=True)
class ComparisonConfig:
    name: str
    comparison: str  # a splink.comparison_library class name, or "custom"
    column: str | None
    args: Mapping[str, Any]
    term_frequency_adjustments: bool
    levels: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class LookupConfig:
    """Columns a side's records take from the latest submission of a third kind by their own
    body, joined on a key of that kind (an admission's child, by UPN, on the school census:
    where the child lives). Each record gets the lookup's ``columns`` named ``prefix +
    column``; NULL where its body's records of that kind have no such key, or when its body has
    not submitted the kind. Of several records with one key, the one latest by ``latest_by``
    (then by record id) is taken. Only the record's own body's: another body's data would be
    shown without that body's declaration or audit trail."""

    side: str  # "left" or "right"; "both" when a job links one kind (its records are both sides)
    spec: DatasetSpec = field(repr=False)
    # The keys, tried in order: a record takes the record the first one finds. Each key is
    # its (own column, their column) pairs: one pair for a shared key (upn, upn), several for
    # a person's name and date of birth (pupil_dob, dob), ... under the side's own names.
    keys: tuple[tuple[tuple[str, str], ...], ...]
    columns: tuple[str, ...]
    prefix: str
    latest_by: str | None
    # Each column the list of the distinct values the body's records with the key hold (the
    # emails of everyone registered at a UPRN), sorted; NULL when none holds one.
    list: bool = False

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def on(self) -> str:
        """The keys in words: "upn", or "upn, else pupil_dob, pupil_forename and pupil_surname"."""
        def words(key: tuple[tuple[str, str], ...]) -> str:
            names = [own for own, _ in key]
            return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return ", else ".join(words(k) for k in self.keys)

    def on_json(self) -> Any:
        """The keys as the config gives them: a column name, a table of columns, or a list."""
        keys = [k[0][0] if len(k) == 1 and k[0][0] == k[0][1] else dict(k) for k in self.keys]
        return keys[0] if len(keys) == 1 else keys

    def own_key_columns(self) -> set[str]:
        return {own for key in self.keys for own, _ in key}

    def their_key_columns(self) -> set[str]:
        return {theirs for key in self.keys for _, theirs in key}

    def column_types(self) -> dict[str, str]:
        """The columns it adds (``prefix + column``) and their DuckDB types."""
        from matching.rules.compile import dataset_column_types

        types = dataset_column_types(self.spec)
        return {self.prefix + c: types[c] + ("[]" if self.list else "") for c in self.columns}

    def applies_to(self, side: str) -> bool:
        return self.side in (side, "both")


@dataclass(frozen=True)
class TrainingConfig:
    probability_two_random_records_match: float | None
    deterministic_rules: tuple[str, ...]
    recall: float
    u_max_pairs: float
    seed: int
    em_blocking_rules: tuple[str, ...]
    em_max_pairs: float | None


@dataclass(frozen=True)
class JobConfig:
    job: str
    path: Path
    title: str
    description: str
    owning_body: str  # "left", "right", "each" (both bodies of an across-bodies pair) or a body slug
    review: bool  # False: an analysts' link, never published to investigators' queues
    left: DatasetSpec
    right: DatasetSpec
    across_bodies: bool
    within_body: bool
    subject: str
    threshold: float
    blocking_rules: tuple[str, ...]
    comparisons: tuple[ComparisonConfig, ...]
    training: TrainingConfig
    rule: str
    explanation: str
    values: Mapping[str, str]
    since: str | None
    until: str | None  # when the inconsistency ended, if it has; None or NULL: it goes on
    money_pence: str | None
    strong_identifiers: tuple[str, ...]
    # rule.not_if_also_linked: an inconsistency is set aside when its left record links at least
    # as strongly to another right record where this holds (run.py, _set_aside)
    also_linked: str | None = None
    # rule.set_aside_unless: a SQL condition over the inconsistency's own pair; where it holds,
    # the inconsistency is never set aside
    set_aside_unless: str | None = None
    # datasets.lookups: columns either side takes from a third kind's records
    lookups: tuple[LookupConfig, ...] = ()
    raw: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)
    # The file whose linkage.blocking_rules these are: the job's own, or the preset it
    # includes (where changing them changes every job that includes it).
    blocking_rules_from: Path | None = field(compare=False, repr=False, default=None)
    # The preset the job includes (``include = ...``): part of its config, and of its hash.
    included: Path | None = field(compare=False, repr=False, default=None)

    @cached_property
    def compiled(self) -> CompiledJob:
        """The job's rule, values, explanation and priority as checked SQL (compiled once)."""
        from matching.rules.compile import compile_job

        return compile_job(self)

    @cached_property
    def config_hash(self) -> str:
        """SHA-256 of the config: the job's file, and the preset it includes (``hash_config``).
        Read once, when first asked: a run asks for its id, its manifest and its model's check."""
        return hash_config(self.path, self.included)

    @property
    def link_type(self) -> str:
        """Splink's link type: duplicates within one body's file, else links across inputs."""
        return "dedupe_only" if self.within_body else "link_only"

    def scoped(self, rule: str) -> str:
        """A blocking or training rule limited to the pairs this job may compare."""
        return f"({rule}) AND l.body = r.body" if self.within_body else rule

    @property
    def kinds(self) -> tuple[str, str]:
        return (self.left.kind, self.right.kind)

    def column_types(self, side: str) -> dict[str, str]:
        """Column -> DuckDB type of one side's records as the job reads them: the kind's
        standardised columns and those its lookups add."""
        from matching.rules.compile import dataset_column_types

        types = dict(dataset_column_types(self.left if side == "left" else self.right))
        for lookup in self.lookups:
            if lookup.applies_to(side):
                types |= lookup.column_types()
        return types


def _fail(path: Path, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {key}: {problem}\n  Fix: {fix}")


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
            raise _fail(path, f"{where}{key}", "unknown setting", hint)


def _table(path: Path, data: Mapping[str, Any], key: str, required: bool = True) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(path, key, "missing or not a table", f"add a [{key}] table")
    return value


def _str_list(path: Path, key: str, value: Any, required: bool = True) -> tuple[str, ...]:
    """A non-empty list of SQL conditions (blocking and training rules), each checked."""
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, key, "must be a non-empty list of SQL strings", f'{key.split(".")[-1]} = ["l.dob = r.dob"]')
    for i, sql in enumerate(value):
        check_linkage_sql(sql, where=f"{path}: {key}[{i}]")
    return tuple(value)


def _flag(path: Path, key: str, value: Any, default: bool = False) -> bool:
    """A true/false setting: anything else (a quoted "false", a 0) is refused, not guessed."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _fail(path, key, f"{value!r} is not true or false", f"{key.split('.')[-1]} = true (unquoted)")
    return value


def _number(
    path: Path, key: str, value: Any, default: float, *,
    above: float | None = None, at_least: float | None = None, at_most: float | None = None, whole: bool = False,
) -> float:
    """A number (whole, if ``whole``) within its bounds, else a message naming them."""
    if value is None:
        return default
    example = f"{key.split('.')[-1]} = {int(default) if whole else default:g}"
    if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not isinstance(value, int)):
        raise _fail(path, key, f"{value!r} is not a {'whole number' if whole else 'number'}", example)
    low = above if above is not None else at_least
    ok = (above is None or value > above) and (at_least is None or value >= at_least) and (at_most is None or value <= at_most)
    if not ok:
        span = f"between {low:g} and {at_most:g}" if low is not None and at_most is not None else (
            f"above {above:g}" if above is not None else f"at least {at_least:g}" if at_least is not None else f"at most {at_most:g}")
        raise _fail(path, key, f"{value!r} is not {span}", example)
    return float(value)


def _kind(path: Path, key: str, value: Any) -> DatasetSpec:
    if not isinstance(value, str):
        raise _fail(path, key, "missing", 'name a dataset kind, e.g. "payroll"')
    kinds = list_kinds()
    if value not in kinds:
        close = difflib.get_close_matches(value, kinds, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known kinds: {', '.join(kinds)}"
        raise _fail(path, key, f"unknown dataset kind '{value}'", hint)
    return load_spec(value)


_PREFIX = re.compile(r"^[a-z][a-z0-9_]*_$")


def _lookups(path: Path, raw: Any, left: DatasetSpec, right: DatasetSpec) -> tuple[LookupConfig, ...]:
    """``[[datasets.lookups]]``: each names a third kind, the key it shares with a side, and the
    columns that side takes from it."""
    from matching.rules.compile import dataset_column_types

    if raw is None:
        return ()
    example = 'side = "left", kind = "pupils", on = "upn", columns = ["uprn", "postcode"], prefix = "census_"'
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise _fail(path, "datasets.lookups", "must be a list of tables", f"[[datasets.lookups]] with {example}")
    if not raw:
        raise _fail(path, "datasets.lookups", "is empty", f"remove it, or add [[datasets.lookups]] with {example}")
    one_kind = left.kind == right.kind
    lookups: list[LookupConfig] = []
    taken = {"left": set(dataset_column_types(left)), "right": set(dataset_column_types(right))}
    for i, item in enumerate(raw):
        where = f"datasets.lookups[{i}]."
        _check_keys(path, where, item, LOOKUP_KEYS)
        side = item.get("side", "both" if one_kind else None)
        sides = ("both",) if one_kind else ("left", "right")
        if side not in sides:
            fix = ('side = "both" (the job links one kind, whose records are both sides)' if one_kind
                   else f'side = "left" ({left.kind}) or side = "right" ({right.kind})')
            raise _fail(path, f"{where}side", "missing" if side is None else f"{side!r} is not {' or '.join(sides)}", fix)
        spec = _kind(path, f"{where}kind", item.get("kind"))
        own = left if side in ("left", "both") else right
        theirs = dataset_column_types(spec)
        keys = _lookup_keys(path, f"{where}on", item.get("on"), own, spec)
        columns = item.get("columns")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
            raise _fail(path, f"{where}columns", "must be a non-empty list of column names", 'columns = ["uprn", "postcode"]')
        for c in columns:
            if c not in theirs:
                close = difflib.get_close_matches(c, theirs, n=1)
                raise _fail(path, f"{where}columns", f"{spec.kind} has no column '{c}'",
                            f"did you mean '{close[0]}'?" if close else f"its columns: {', '.join(theirs)}")
        prefix = item.get("prefix")
        if not isinstance(prefix, str) or not _PREFIX.match(prefix):
            raise _fail(path, f"{where}prefix", f"{prefix!r} is not a prefix of lower-case letters, digits and _ ending in _",
                        'prefix = "census_" (the columns it adds are then census_uprn, ...)')
        latest = item.get("latest_by")
        if latest is not None and (not isinstance(latest, str) or theirs.get(latest) != "DATE"):
            dates = [c for c, t in theirs.items() if t == "DATE"]
            raise _fail(path, f"{where}latest_by", f"{latest!r} is not a date column of {spec.kind}",
                        f"name one of {', '.join(dates)}, or leave it out" if dates else "leave it out")
        as_list = _flag(path, f"{where}list", item.get("list"))
        if as_list and latest is not None:
            raise _fail(path, f"{where}latest_by", "takes one record of several, but list = true takes them all", "remove one of them")
        if as_list and any(is_person_key(k) for k in keys):
            raise _fail(path, f"{where}list", "takes every record with a key, but a person's name and date of birth "
                        "takes one person's record", "look up a list by a shared key (a UPRN), or remove list = true")
        if prefix in (lk.prefix for lk in lookups):
            raise _fail(path, f"{where}prefix", f"another lookup already uses {prefix!r}", "give each lookup its own prefix")
        lookup = LookupConfig(side=side, spec=spec, keys=keys, columns=tuple(dict.fromkeys(columns)), prefix=prefix, latest_by=latest,
                              list=as_list)
        for s in ("left", "right"):
            if lookup.applies_to(s):
                clash = sorted(taken[s] & set(lookup.column_types()))
                if clash:
                    raise _fail(path, f"{where}prefix", f"{clash[0]} is already a column of the {s} records", "choose another prefix")
                taken[s] |= set(lookup.column_types())
        lookups.append(lookup)
    return tuple(lookups)


def is_person_key(key: tuple[tuple[str, str], ...]) -> bool:
    """A lookup key of a person's name and date of birth (not one shared column): it finds a
    record only when one record key of the looked-up kind holds it."""
    return len(key) > 1 or key[0][0] != key[0][1]


def first_key_found(keys: list[tuple[tuple[str, str], ...]], found: list[str], own: Callable[[str], str]) -> list[str]:
    """For each of a lookup's keys, the SQL condition under which a record takes the record it
    found (``found``: that it found one): no earlier key found one, and the record gives none of
    the earlier keys (an application without a UPN, not one whose UPN the census lacks: a child
    at another council's school is not another pupil of the same name). ``own`` quotes a
    column of the record, in the backend's dialect."""
    blank = [" OR ".join(f"{own(o)} IS NULL" for o, _ in key) for key in keys]
    return [" AND ".join([f, *(f"({b})" for b in blank[:j])]) for j, f in enumerate(found)]


# A key of a person's name and date of birth names these of the looked-up kind (a forename
# column too). It finds a record only when one record key holds it (records_sql): two pupils
# of one name and date of birth in a council give neither. That the side's columns are one
# person's (the child's name with the child's date of birth) is the config's to say.
_PERSON_KEY = {"dob", "surname"}


def _lookup_keys(path: Path, where: str, raw: Any, own: DatasetSpec, spec: DatasetSpec) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A lookup's ``on``: a key, or a list of keys tried in order. A key is a column both kinds
    have that names one record of the looked-up kind (its record key, an NI number or a UPRN),
    or a table of the side's columns to the looked-up kind's naming a person (their date of
    birth, surname and forename): a shared attribute (a postcode, a body) would hand a record
    some other's values."""
    from matching.rules.compile import dataset_column_types

    mine, theirs = dataset_column_types(own), dataset_column_types(spec)
    shared = [f.name for f in spec.fields if f.name == spec.record_key or f.type in ("ni_number", "uprn")]
    usable = [k for k in shared if k in mine]
    fix = (f"on = \"{usable[0]}\"" if usable else f"{own.kind} has none of {spec.kind}'s keys ({', '.join(shared)}): "
           "look up another kind, or by a person's name and date of birth (on = { %s })"
           % ", ".join(f'{c} = "{c}"' for c in ("forename", "surname", "dob")))
    if raw is None:
        raise _fail(path, where, "missing", fix)
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(path, where, "is an empty list", fix)
    keys: list[tuple[tuple[str, str], ...]] = []
    for item in items:
        if isinstance(item, str):
            if item not in shared or item not in mine:
                raise _fail(path, where, f"{item!r} is not a key of {spec.kind} (its record key, an NI number or a UPRN) "
                            f"that {own.kind} also has", fix)
            key: tuple[tuple[str, str], ...] = ((item, item),)
        elif isinstance(item, Mapping) and item and all(isinstance(v, str) for v in item.values()):
            for mine_col, their_col in item.items():
                if mine_col not in mine:
                    raise _fail(path, where, f"{own.kind} has no column '{mine_col}'", f"its columns: {', '.join(mine)}")
                if their_col not in theirs:
                    raise _fail(path, where, f"{spec.kind} has no column '{their_col}'", f"its columns: {', '.join(theirs)}")
                if mine[mine_col] != theirs[their_col]:
                    raise _fail(path, where, f"{own.kind}'s {mine_col} ({mine[mine_col]}) and {spec.kind}'s {their_col} "
                                f"({theirs[their_col]}) are not of one type", "pair columns that hold the same thing")
            named = set(item.values())
            if not (_PERSON_KEY <= named and named & {"forename", "forenames"}):
                raise _fail(path, where, f"{dict(item)} does not name a person: a table key gives {spec.kind}'s date of birth, "
                            "surname and forename (a shared attribute such as a postcode would hand a record another's values)",
                            f'on = {{ <{own.kind} forename column> = "forename", <surname column> = "surname", '
                            '<date of birth column> = "dob" }')
            key = tuple(sorted(item.items()))
        else:
            raise _fail(path, where, f"{item!r} is not a column name or a table of columns", fix)
        if key in keys:
            raise _fail(path, where, f"gives {item!r} twice", "give each key once")
        keys.append(key)
    return tuple(keys)


def _comparison(path: Path, i: int, raw: Any) -> ComparisonConfig:
    where = f"linkage.comparisons[{i}]."
    if not isinstance(raw, Mapping):
        raise _fail(path, f"linkage.comparisons[{i}]", "must be a table", "use [[linkage.comparisons]] tables")
    _check_keys(path, where, raw, COMPARISON_KEYS)
    import splink.comparison_library as cl

    kind = raw.get("comparison")
    names = [n for n in cl.__all__ if n != "CustomComparison"]
    if kind != "custom" and kind not in names:
        close = difflib.get_close_matches(str(kind), names, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(names)} or \"custom\""
        raise _fail(path, f"{where}comparison", f"unknown comparison '{kind}'", hint)
    column = raw.get("column")
    name = raw.get("name") or column
    if not isinstance(name, str):
        raise _fail(path, f"{where}name", "missing", 'give the comparison a name (or a column), e.g. name = "dob"')
    levels = raw.get("levels", [])
    if kind == "custom":
        if not isinstance(levels, list) or len(levels) < 2:
            raise _fail(path, f"{where}levels", "a custom comparison needs at least two levels", 'levels = [{ sql = "...", label = "..." }, { else = true, label = "All other" }]')
        for j, level in enumerate(levels):
            if not isinstance(level, Mapping) or not (isinstance(level.get("sql"), str) or level.get("else") is True):
                raise _fail(path, f"{where}levels[{j}]", "each level needs sql = \"...\" (or else = true) and a label", '{ sql = "l.x = r.x", label = "exact" }')
            _check_keys(path, f"{where}levels[{j}].", level, LEVEL_KEYS)
            if isinstance(level.get("sql"), str):
                check_linkage_sql(level["sql"], where=f"{path}: {where}levels[{j}].sql")
            for key in ("m", "u"):
                if key in level and not (isinstance(level[key], int | float) and not isinstance(level[key], bool) and 0 < level[key] <= 1):
                    raise _fail(path, f"{where}levels[{j}].{key}", f"{level[key]!r} is not a probability in (0, 1]", f"{key} = 0.01")
            for key in ("null", "else", "fix_m", "fix_u"):
                _flag(path, f"{where}levels[{j}].{key}", level.get(key))
            if "tf_weight" in level:
                _number(path, f"{where}levels[{j}].tf_weight", level["tf_weight"], 1.0, above=0, at_most=1)
            tf = level.get("tf_column")
            if tf is not None:
                # Splink looks up the term frequency of the value this level compares.
                sql = str(level.get("sql", "")).replace('"', "")
                if f"{tf}_l" not in sql and f"{tf}_r" not in sql:
                    raise _fail(path, f"{where}levels[{j}].tf_column", f"the level does not compare {tf}", f'use tf_column on a level such as sql = "{tf}_l = {tf}_r", or remove it')
    elif not isinstance(column, str):
        raise _fail(path, f"{where}column", "missing", f'name the column {kind} compares, e.g. column = "surname"')
    elif raw.get("name") not in (None, column):
        raise _fail(path, f"{where}name", f"Splink names a {kind} after its column ('{column}')", f'remove name, or use name = "{column}"')
    args = raw.get("args", {})
    if not isinstance(args, Mapping):
        raise _fail(path, f"{where}args", "must be a table", "args = { thresholds = [1, 2] }")
    return ComparisonConfig(
        name=name,
        comparison=kind,
        column=column,
        args=dict(args),
        term_frequency_adjustments=_flag(path, f"{where}term_frequency_adjustments", raw.get("term_frequency_adjustments")),
        levels=tuple(levels),
    )


def _condition(path: Path, rule: Mapping[str, Any], key: str, over: str, example: str) -> str | None:
    """The optional SQL condition ``rule.<key>``, which must be a non-empty string."""
    value = rule.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _fail(path, f"rule.{key}", f"must be a SQL condition {over}", example)
    return value


def parse_job(path: Path, data: Mapping[str, Any], blocking_rules_from: Path | None = None,
              included: Path | None = None) -> JobConfig:
    """Validate a parsed job config (structure, kinds, SQL) and return it."""
    _check_keys(path, "", data, TOP_KEYS)
    title = data.get("title")
    if not isinstance(title, str) or not title:
        raise _fail(path, "title", "missing", 'add title = "Housing benefit claims to deceased persons"')
    datasets = _table(path, data, "datasets")
    _check_keys(path, "datasets.", datasets, DATASET_KEYS)
    left = _kind(path, "datasets.left", datasets.get("left"))
    right = _kind(path, "datasets.right", datasets.get("right"))
    across = _flag(path, "datasets.across_bodies", datasets.get("across_bodies"))
    within = _flag(path, "datasets.within_body", datasets.get("within_body"))
    for key, flag in (("across_bodies", across), ("within_body", within)):
        if flag and left.kind != right.kind:
            raise _fail(path, f"datasets.{key}", "only applies when left and right are the same kind", "remove it, or name one kind twice")
    if across and within:
        raise _fail(path, "datasets", "across_bodies and within_body cannot both be true", "choose one")
    if left.kind == right.kind and not (across or within):
        # Else every record would link to itself, and each pair be kept twice, once each way round.
        raise _fail(path, "datasets", f"left and right are both {left.kind}: say which of its records to compare",
                    "across_bodies = true (one body's records with another's) or within_body = true (a body's records with each other)")
    lookups = _lookups(path, datasets.get("lookups"), left, right)
    owning = data.get("owning_body", "left")
    if not isinstance(owning, str) or not owning:
        raise _fail(path, "owning_body", "missing", 'owning_body = "left" (or "right", or a body name)')
    if owning == "each" and not across:
        raise _fail(path, "owning_body", '"each" (an inconsistency for each body whose record it shows) needs records of two bodies',
                    'set datasets.across_bodies = true, or owning_body = "left"')
    if owning not in ("left", "right", "each") and not BODY_PATTERN.match(owning):
        raise _fail(path, "owning_body", f"{owning!r} is neither left, right nor a body name (lower-case letters, digits and hyphens)",
                    'owning_body = "left" (or "right", or a body name such as "dwp")')

    review = data.get("review", True)
    if not isinstance(review, bool):
        raise _fail(path, "review", f"{review!r} is not true or false", "review = false (an analysts' link, never queued)")

    linkage = _table(path, data, "linkage")
    _check_keys(path, "linkage.", linkage, LINKAGE_KEYS)
    threshold = linkage.get("threshold")
    if not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise _fail(path, "linkage.threshold", f"{threshold!r} is not a probability between 0 and 1", "threshold = 0.95")
    subject = linkage.get("subject", "person")
    if subject not in SUBJECTS:
        raise _fail(path, "linkage.subject", f"{subject!r} is not one of {', '.join(SUBJECTS)}", 'subject = "person" (what a true link joins: one person)')
    # more_blocking_rules: rules a job adds to those it includes from a preset, without copying them.
    blocking = _str_list(path, "linkage.blocking_rules", linkage.get("blocking_rules")) + _str_list(
        path, "linkage.more_blocking_rules", linkage.get("more_blocking_rules"), required=False)
    if len(set(blocking)) < len(blocking):
        twice = next(rule for rule in blocking if blocking.count(rule) > 1)
        raise _fail(path, "linkage.more_blocking_rules", f"{twice!r} is a blocking rule already", "remove it from more_blocking_rules")
    raw_comparisons = linkage.get("comparisons")
    if not isinstance(raw_comparisons, list) or not raw_comparisons:
        raise _fail(path, "linkage.comparisons", "no comparisons", "add [[linkage.comparisons]] tables")
    comparisons = tuple(_comparison(path, i, c) for i, c in enumerate(raw_comparisons))
    seen: set[str] = set()
    for c in comparisons:
        if c.name in seen:
            raise _fail(path, "linkage.comparisons", f"two comparisons are named '{c.name}'", "give each comparison its own name")
        seen.add(c.name)

    training = _table(path, data, "training")
    _check_keys(path, "training.", training, TRAINING_KEYS)
    prior = training.get("probability_two_random_records_match")
    if prior is not None:
        prior = _number(path, "training.probability_two_random_records_match", prior, 1e-5, above=0, at_most=1)
    det = _str_list(path, "training.deterministic_rules", training.get("deterministic_rules"), required=False)
    if prior is None and not det:
        raise _fail(path, "training", "no prior", "set probability_two_random_records_match, or deterministic_rules with recall")
    em_rules = _str_list(path, "training.em_blocking_rules", training.get("em_blocking_rules"))
    train = TrainingConfig(
        probability_two_random_records_match=prior,
        deterministic_rules=det,
        recall=_number(path, "training.recall", training.get("recall"), 0.8, above=0, at_most=1),
        u_max_pairs=_number(path, "training.u_max_pairs", training.get("u_max_pairs"), 1e7, at_least=1000),
        seed=int(_number(path, "training.seed", training.get("seed"), 42, at_least=0, whole=True)),
        em_blocking_rules=em_rules,
        em_max_pairs=_number(path, "training.em_max_pairs", training["em_max_pairs"], 1e6, at_least=1000) if "em_max_pairs" in training else None,
    )

    rule = _table(path, data, "rule")
    _check_keys(path, "rule.", rule, RULE_KEYS)
    where = rule.get("where")
    explanation = rule.get("explanation")
    if not isinstance(where, str):
        raise _fail(path, "rule.where", "missing", 'where = "l.claim_end_date IS NULL OR l.claim_end_date > r.date_of_death"')
    if not isinstance(explanation, str):
        raise _fail(path, "rule.explanation", "missing", 'explanation = "Claim {l.claim_ref} ... {r.date_of_death}"')
    values = rule.get("values", {})
    if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
        raise _fail(path, "rule.values", "must be a table of name = \"SQL\"", 'values = { days_after_death = "date_diff(\'day\', r.date_of_death, as_at)" }')

    also_linked = _condition(path, rule, "not_if_also_linked", "over the other link", 'not_if_also_linked = "gamma_property = 1" (a parent linked at the address given)')
    if also_linked is not None and (across or within):
        raise _fail(path, "rule.not_if_also_linked", "needs a left and a right dataset: across or within bodies, which record is the left one is arbitrary", "remove it")
    unless = _condition(path, rule, "set_aside_unless", "over the inconsistency's own records", 'set_aside_unless = "l.email = r.email" (the same person at both addresses)')
    if unless is not None and also_linked is None:
        raise _fail(path, "rule.set_aside_unless", "says when not to set an inconsistency aside, but nothing sets one aside", "add rule.not_if_also_linked, or remove it")

    priority = _table(path, data, "priority", required=False)
    _check_keys(path, "priority.", priority, PRIORITY_KEYS)
    strong = tuple(priority.get("strong_identifiers", ["ni_number", "dob"]))
    for s in strong:
        if s not in STRONG_IDENTIFIERS:
            raise _fail(path, "priority.strong_identifiers", f"unknown identifier '{s}'", f"use some of {', '.join(STRONG_IDENTIFIERS)}")

    job = JobConfig(
        job=path.stem,
        path=path,
        title=title,
        description=str(data.get("description", "")),
        owning_body=owning,
        review=review,
        left=left,
        right=right,
        across_bodies=across,
        within_body=within,
        subject=subject,
        threshold=float(threshold),
        blocking_rules=blocking,
        comparisons=comparisons,
        training=train,
        rule=where,
        explanation=explanation,
        values=dict(values),
        since=priority.get("since"),
        until=priority.get("until"),
        money_pence=priority.get("money_pence"),
        strong_identifiers=strong,
        also_linked=also_linked,
        set_aside_unless=unless,
        lookups=lookups,
        raw=data,
        blocking_rules_from=blocking_rules_from,
        included=included,
    )
    _ = job.compiled  # compiling checks every SQL snippet against the columns
    return job


def jobs_dir() -> Path:
    return configs_dir() / "jobs"


def list_jobs() -> list[str]:
    return sorted(p.stem for p in jobs_dir().glob("*.toml"))


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, "job config")


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in ``over`` (lists included) replaces ``base``'s."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def hash_config(path: Path, included: Path | None) -> str:
    """SHA-256 of a job's config: its file, and the preset it includes, if any (an edit to
    either changes the job, so a model trained on it and a run made with it are no longer the
    job's). A job without a preset is its file's own SHA-256."""
    import hashlib

    from matching.ingest.submissions import sha256_file

    if included is None:
        return sha256_file(path)
    digest = hashlib.sha256(path.read_bytes())
    digest.update(b"\0include\0" + included.read_bytes())
    return digest.hexdigest()


def config_hash_of(path: Path) -> str:
    """``hash_config`` of the job config at ``path``, read no further than its include."""
    return hash_config(path, _included(path, _read_toml(path)))


def _included(path: Path, data: Mapping[str, Any]) -> Path | None:
    """The preset the job config at ``path`` (parsed as ``data``) includes: beside the job first
    (an analyst's own folder), else the project's configs/jobs."""
    include = data.get("include")
    if include is None:
        return None
    if not isinstance(include, str):
        raise _fail(path, "include", "must be a path", 'include = "presets/person.toml"')
    candidates = [(path.parent / include).resolve(), (jobs_dir() / include).resolve()]
    roots = [path.parent.resolve(), jobs_dir().resolve()]
    base_path = next((c for c in candidates if c.exists()), candidates[-1])
    if not any(base_path.is_relative_to(r) for r in roots):
        raise _fail(path, "include", f"{include} is outside the jobs folder", "include a preset from configs/jobs/presets/")
    return base_path


def load_job_file(path: Path) -> JobConfig:
    """Load a job config; ``include = "presets/x.toml"`` supplies defaults the job overrides."""
    data = _read_toml(path)
    base_path = _included(path, data)
    if base_path is not None:
        base = _read_toml(base_path)
        own = "blocking_rules" in (data.get("linkage") or {})
        data = _merge(base, {k: v for k, v in data.items() if k != "include"})
        from_preset = not own and "blocking_rules" in (data.get("linkage") or {})
        return parse_job(path, data, blocking_rules_from=base_path if from_preset else None, included=base_path)
    return parse_job(path, data)


def load_job(job: str) -> JobConfig:
    path = Path(job) if job.endswith(".toml") else jobs_dir() / f"{job}.toml"
    if not path.exists():
        jobs = list_jobs()
        raise ConfigError(f"Unknown job '{job}'.{did_you_mean(job, jobs)}\n  Jobs: {', '.join(jobs) or '(none)'}")
    return load_job_file(path)
