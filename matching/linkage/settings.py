"""Splink settings built from a job config, per backend.

The job config is the source of truth. A trained model (Splink's JSON) carries the
m and u probabilities and the prior; they are applied onto settings freshly built for the
backend at hand, because SQL inside a model saved on DuckDB does not run on Spark.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlglot import exp

from matching.errors import ConfigError, UserError
from matching.jobs.config import ComparisonConfig, JobConfig
from matching.rules.check import parse_condition

DIALECTS = {"duckdb": "duckdb", "spark": "spark"}


# Spark has no Jaro or Jaro-Winkler function of its own (3.5 nor 4.x): Splink's Spark backend
# registers them from its similarity jar (scala-udf-similarity) under these names.
SPARK_UDFS = {"jaro_winkler_similarity": "jaro_winkler", "jaro_similarity": "jaro_sim"}


_BACKREFERENCE = re.compile(r"\\(\d)")


def _spark_functions(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.RegexpReplace) and isinstance(node.args.get("replacement"), exp.Literal):
        # DuckDB (RE2) writes a group in a replacement as \1; Java's regex, Spark's, as $1 (it
        # reads \1 as a plain "1", which made every flat and house number "1" on Spark).
        text = node.args["replacement"].this
        fixed = node.copy()
        fixed.set("replacement", exp.Literal.string(_BACKREFERENCE.sub(r"$\1", text.replace("$", "\\$"))))
        return fixed
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this=SPARK_UDFS["jaro_winkler_similarity"], expressions=[node.this, node.expression])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in SPARK_UDFS:
        return exp.Anonymous(this=SPARK_UDFS[str(node.this).lower()], expressions=list(node.expressions))
    return node


def translate(sql: str, dialect: str) -> str:
    """A DuckDB SQL condition in the backend's dialect."""
    if dialect == "duckdb":
        return sql
    tree = parse_condition(sql)
    if dialect == "spark":
        tree = tree.transform(_spark_functions)
    return tree.sql(dialect=DIALECTS[dialect])


def _comparison(c: ComparisonConfig, dialect: str) -> Any:
    import splink.comparison_library as cl

    if c.comparison == "custom":
        levels: list[Any] = []
        for level in c.levels:
            item: dict[str, Any] = (
                {"sql_condition": "ELSE", "label_for_charts": level.get("label", "All other comparisons")}
                if level.get("else")
                else {"sql_condition": translate(level["sql"], dialect), "label_for_charts": level.get("label", level["sql"])}
            )
            if level.get("null"):
                item["is_null_level"] = True
            # Domain knowledge a level may pin: EM leaves a fixed m (or u) as written.
            for key in ("m", "u"):
                if key in level:
                    item[f"{key}_probability"] = float(level[key])
                    item[f"fix_{key}_probability"] = bool(level.get(f"fix_{key}", True))
            if level.get("tf_column"):
                item["tf_adjustment_column"] = level["tf_column"]
                item["tf_adjustment_weight"] = float(level.get("tf_weight", 1.0))
            levels.append(item)
        # Splink scales a term-frequency level's weight by the u of the comparison's exact-match
        # level over the value's frequency. Without one (a column compared with another, as a
        # child's surname with a partner's) Splink would raise at run: the level's own u serves.
        # A level written plainly as `x_l = x_r` is one Splink finds; only a column without
        # one needs Splink's own detection (13 ms a run for person-link's names otherwise).
        tf_columns = {item["tf_adjustment_column"].lower() for item in levels if "tf_adjustment_column" in item}
        exact = {m.group(1).lower() for level in c.levels if (m := _PLAIN_EXACT.fullmatch(str(level.get("sql", ""))))}
        if tf_columns - exact:
            exact |= _exact_match_columns(cl.CustomComparison(comparison_levels=levels, output_column_name=c.name), dialect)
            for item in levels:
                if "tf_adjustment_column" in item and item["tf_adjustment_column"].lower() not in exact:
                    item["disable_tf_exact_match_detection"] = True
        return cl.CustomComparison(comparison_levels=levels, output_column_name=c.name)
    cls = getattr(cl, c.comparison)
    try:
        comp = cls(c.column, **dict(c.args))
    except TypeError as exc:
        raise ConfigError(
            f"comparison '{c.name}' ({c.comparison}): {exc}\n  Fix: check the args against Splink's {c.comparison}."
        ) from None
    comp = comp.configure(term_frequency_adjustments=c.term_frequency_adjustments)
    return comp


# `x_l = x_r` (or `x_r = x_l`): an exact-match level of x as Splink detects one.
_PLAIN_EXACT = re.compile(r"\s*(\w+)_([lr])\s*=\s*\1_(?!\2)[lr]\s*", re.IGNORECASE)


def _exact_match_columns(comparison: Any, dialect: str) -> set[str]:
    """The columns that have an exact-match level in the comparison, found as Splink finds the
    level it takes a term frequency adjustment's u from."""
    found = set()
    for level in comparison.get_comparison(dialect).comparison_levels:
        if level._is_exact_match:
            columns = level._exact_match_colnames
            if len(columns) == 1:
                found.add(columns[0])
    return found


def blocking_rule(sql: str, dialect: str) -> Any:
    from splink.internals.blocking_rule_library import CustomRule

    return CustomRule(translate(sql, dialect), sql_dialect=dialect)


def build_settings(job: JobConfig, dialect: str = "duckdb") -> Any:
    """A SettingsCreator for the job on one backend, with untrained parameters."""
    from splink import SettingsCreator

    prior = job.training.probability_two_random_records_match or 1e-4
    settings = SettingsCreator(
        link_type=job.link_type,  # type: ignore[arg-type]
        comparisons=[_comparison(c, dialect) for c in job.comparisons],
        blocking_rules_to_generate_predictions=[blocking_rule(job.scoped(r), dialect) for r in job.blocking_rules],
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        unique_id_column_name="unique_id",
        additional_columns_to_retain=[],
    )
    return settings


def settings_dict(job: JobConfig, dialect: str = "duckdb") -> dict[str, Any]:
    """The complete settings dictionary Splink would use for this job on ``dialect``."""
    return build_settings(job, dialect).create_settings_dict(dialect)


def read_model(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:  # unreadable, not JSON, not UTF-8
        raise UserError(f"{path}: not a readable model: {exc}\n  Fix: train the job again with 'matching train {path.stem}'.") from None
    if not isinstance(data, Mapping) or "comparisons" not in data:
        raise UserError(f"{path}: not a Splink model (no comparisons).\n  Fix: train the job again with 'matching train {path.stem}'.")
    return dict(data)


def trained_for_another_job(job: JobConfig, model: Mapping[str, Any]) -> str | None:
    """The job a model was trained for, when that is another job than ``job``: training names a
    model ``m`` and the first seven hex digits of its job config's SHA-256 (``linker_uid``), so
    a model whose name is that of another job's config (a standard job, or a job file beside
    ``job``'s) is that job's. None when the model is ``job``'s, or of a config no longer there
    (an earlier version of ``job``'s, say, which the comparisons check then judges)."""
    from matching.errors import UserError
    from matching.jobs.config import config_hash_of, jobs_dir

    uid = model.get("linker_uid")
    if not isinstance(uid, str) or not uid.startswith("m") or uid == f"m{job.config_hash[:7]}":
        return None
    own = job.path.resolve()
    candidates = {p.resolve() for folder in (jobs_dir(), job.path.parent) if folder.is_dir() for p in folder.glob("*.toml")}
    for path in sorted(candidates):
        if path == own or path.stem == job.job:
            continue  # another version of this job's config: the comparisons check judges it
        try:
            if uid == f"m{config_hash_of(path)[:7]}":
                return path.stem
        except (UserError, OSError):
            continue  # a file beside it that is no job config it could be (or its preset is gone)
    return None


def apply_model(job: JobConfig, settings: dict[str, Any], model: Mapping[str, Any], model_path: Path) -> dict[str, Any]:
    """Copy m/u probabilities and the prior from a trained model onto freshly built settings.

    A model trained for another job (its ``linker_uid``, which training takes from the job's
    config, names another job's config) is refused, even where the comparisons are the same:
    its m, u and prior describe other data. Comparisons are matched by name and levels by
    position and label; any difference means the model was trained for another version of
    the config and must be retrained.
    """
    other = trained_for_another_job(job, model)
    if other is not None:
        raise UserError(
            f"{model_path}: this model was trained for the job '{other}', not '{job.job}' "
            f"(its linker_uid {model['linker_uid']} is that of {other}'s config).\n"
            f"  Fix: use {job.job}'s own model: train it with 'matching train {job.job}', or use the one "
            f"shipped in configs/models/{job.job}.json."
        )
    retrain = f"  Fix: retrain with 'matching train {job.job}', or use the model shipped in configs/models/{job.job}.json."
    trained = {c["output_column_name"]: c for c in model["comparisons"]}
    out = dict(settings)
    prior = model.get("probability_two_random_records_match", settings["probability_two_random_records_match"])
    if not _probability(prior) or prior == 1:
        raise UserError(f"{model_path}: probability_two_random_records_match is {prior!r}, not a probability between 0 and 1.\n{retrain}")
    out["probability_two_random_records_match"] = prior
    comparisons = []
    for comp in settings["comparisons"]:
        name = comp["output_column_name"]
        if name not in trained:
            raise UserError(
                f"{model_path}: the model has no comparison '{name}' that {job.path.name} defines.\n"
                f"  Fix: retrain with 'matching train {job.job}' (the config changed since the model was trained)."
            )
        t_levels = [lv for lv in trained[name]["comparison_levels"] if not lv.get("is_null_level")]
        levels = [dict(lv) for lv in comp["comparison_levels"]]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        if len(t_levels) != len(non_null) or any(
            a.get("label_for_charts") != b.get("label_for_charts") for a, b in zip(t_levels, non_null, strict=True)
        ):
            raise UserError(
                f"{model_path}: comparison '{name}' has different levels from {job.path.name}.\n"
                f"  Fix: retrain with 'matching train {job.job}'."
            )
        for lv, t in zip(non_null, t_levels, strict=True):
            for key in ("m_probability", "u_probability"):
                # A probability the config pins stays as the config says; the rest are learnt
                # (or, where training never reached a level, left to Splink: None).
                if key in t and not lv.get(f"fix_{key}"):
                    if t[key] is not None and not _probability(t[key]):
                        raise UserError(
                            f"{model_path}: comparison '{name}', level '{t.get('label_for_charts')}': {key} is {t[key]!r}, "
                            f"not a probability (above 0, at most 1).\n{retrain}"
                        )
                    lv[key] = t[key]
            for key in ("tf_adjustment_column", "tf_adjustment_weight"):
                if key in t and key in lv:
                    lv[key] = t[key]
        comparisons.append({**comp, "comparison_levels": levels})
    extra = set(trained) - {c["output_column_name"] for c in settings["comparisons"]}
    if extra:
        raise UserError(
            f"{model_path}: the model has comparison(s) {', '.join(sorted(extra))} that {job.path.name} does not.\n"
            f"  Fix: retrain with 'matching train {job.job}'."
        )
    out["comparisons"] = comparisons
    return out


def _probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1


# Each record's identity, carried through scoring so the bundle's pairs need no join back
# to the records: only the rule stage reads whole records, and only for pairs it keeps. A
# record's kind and submission follow from its side and body (a job links each body's latest
# submission of each kind), so they are not carried.
CARRIED_COLUMNS = ("body", "record_id")


def prediction_settings(job: JobConfig, dialect: str, model_path: Path) -> dict[str, Any]:
    """Settings to score with: the job's, with the trained model's m/u and the carried columns."""
    settings = apply_model(job, settings_dict(job, dialect), read_model(model_path), model_path)
    settings["additional_columns_to_retain"] = list(CARRIED_COLUMNS)
    return settings


def linkage_columns(job: JobConfig) -> list[str]:
    """Every column a job's linkage tables hold besides unique_id, in a stable order."""
    return sorted(columns_used(job) | set(CARRIED_COLUMNS))


def columns_used(job: JobConfig) -> set[str]:
    """Every input column the job's linkage reads (comparisons, blocking, training rules)."""
    cols: set[str] = set()
    sqls = list(job.blocking_rules) + list(job.training.em_blocking_rules) + list(job.training.deterministic_rules)
    for c in job.comparisons:
        if c.column:
            cols.add(c.column)
        for key, value in c.args.items():
            if key.endswith("col_name") and isinstance(value, str):
                cols.add(value)
        sqls.extend(level["sql"] for level in c.levels if isinstance(level.get("sql"), str))
    for sql in sqls:
        for node in parse_condition(sql).find_all(exp.Column):
            cols.add(node.name.removesuffix("_l").removesuffix("_r") if not node.table else node.name)
    return cols
