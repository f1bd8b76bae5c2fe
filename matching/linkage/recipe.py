"""A job's training recipe and its comparison count, once for every backend.

The backends differ in how they make a linker, how big an input is, and which errors a
failed EM session raises; the recipe itself (prior, u by random sampling, m by EM on each
rule, keeping the other sessions when one fails) is the same, so it lives here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from matching.errors import UserError
from matching.jobs.config import JobConfig
from matching.linkage.settings import blocking_rule

EXACT_COUNT_ROWS = 50_000  # below this many records a side, count comparisons exactly (else a sample)
SAMPLE_PROPORTION = 0.05


def run_recipe(
    job: JobConfig,
    dialect: str,
    log: Any,
    settings: Any,
    make_linker: Callable[[Any], Any],
    largest_input: Callable[[Any], int],
    *,
    session_failures: tuple[type[BaseException], ...] = (ValueError,),
    u_kwargs: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, bool, int]], list[str]]:
    """Train ``job`` on a linker from ``make_linker(settings)``; return the model, the EM
    sessions as (rule, converged, iterations), and notes for the user."""
    from splink.internals.exceptions import EMTrainingException

    t = job.training
    linker = make_linker(settings)
    notes: list[str] = []
    if t.deterministic_rules:
        linker.training.estimate_probability_two_random_records_match(
            [blocking_rule(job.scoped(r), dialect) for r in t.deterministic_rules], recall=t.recall
        )
        # Splink keeps the prior on its settings object; no public setter exists.
        prior = linker._settings_obj._probability_two_random_records_match
        if not 0 < prior < 1:
            # One true match per record of the larger input: a conservative prior.
            fallback = t.probability_two_random_records_match or 1.0 / max(largest_input(linker), 2)
            linker._settings_obj._probability_two_random_records_match = fallback
            notes.append(
                f"The deterministic rules found no pairs, so the prior was set to {fallback:.3g}; "
                "set training.probability_two_random_records_match to choose it."
            )
    linker.training.estimate_u_using_random_sampling(max_pairs=t.u_max_pairs, seed=t.seed, **(u_kwargs or {}))
    sessions: list[tuple[str, bool, int]] = []
    for rule in t.em_blocking_rules:
        start = len(log.messages)
        kwargs: dict[str, Any] = {"estimate_without_term_frequencies": True}
        if t.em_max_pairs:
            kwargs["max_pairs"] = t.em_max_pairs
        snapshot = linker.misc.save_model_to_json(None)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(job.scoped(rule), dialect), **kwargs
            )
        except EMTrainingException:
            raise UserError(
                f"{job.path}: training.em_blocking_rules: '{rule}' produced no pairs of records in this data, "
                "so EM cannot learn from it.\n  Fix: choose a rule on columns these datasets fill."
            ) from None
        except session_failures as exc:
            # Splink 5 refuses an m probability that EM drives to exactly zero (a level no
            # matching pair shows, usually in small data), and a session whose pairs are all
            # matches makes it write an infinite weight DuckDB cannot bind; keep the others.
            if isinstance(exc, ValueError) and "m_probability" not in str(exc) and "u_probability" not in str(exc):
                raise
            notes.append(
                f"EM on {rule} stopped: its pairs gave a level a probability of zero or one (too few, or "
                "only matching, pairs in this data); estimates from the other sessions are kept. "
                "Train on more data, or choose another training.em_blocking_rules entry."
            )
            sessions.append((rule, False, sum(1 for m in log.messages[start:] if m.startswith("Iteration "))))
            # The failed session leaves the linker's model half-updated: start again from the
            # model as it stood before the session.
            linker = make_linker(snapshot)
            continue
        msgs = log.messages[start:]
        sessions.append((rule, any("EM converged" in m for m in msgs), sum(1 for m in msgs if m.startswith("Iteration "))))
    return linker.misc.save_model_to_json(None), sessions, notes


def untrained_levels(model: dict[str, Any]) -> list[str]:
    """Levels EM never estimated (Splink would use its defaults for them)."""
    return [
        f"{c['output_column_name']}: {lv.get('label_for_charts')}"
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level") and not isinstance(lv.get("m_probability"), int | float)
    ]


def sample_proportion(largest: int) -> float:
    """The share of records Splink's comparison count reads: all of them up to
    ``EXACT_COUNT_ROWS`` records a side, else a sample (its count is scaled up)."""
    return 1.0 if largest <= EXACT_COUNT_ROWS else SAMPLE_PROPORTION


def counted(proportion: float) -> str:
    """How a run's comparisons were counted, for its manifest."""
    return "exactly" if proportion >= 1.0 else f"estimated from a {proportion:.0%} sample of the records"


def count_by_rule(job: JobConfig, sdfs: list[Any], dialect: str, largest: int) -> tuple[list[tuple[str, int]], float]:
    """Comparisons each blocking rule adds after the rules before it (estimated on big inputs),
    and the share of records they were counted on (``sample_proportion``)."""
    proportion = sample_proportion(largest)
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    with warnings.catch_warnings():
        # A small sample of a narrow rule is a rough estimate; that is enough to catch a
        # blocking that would explode, which is all the guard is for.
        warnings.simplefilter("ignore", UserWarning)
        records = count_comparisons_from_blocking_rules(
            sdfs,
            blocking_rules=[blocking_rule(job.scoped(r), dialect) for r in job.blocking_rules],
            link_type=job.link_type,  # type: ignore[arg-type]
            record_sample_proportion=proportion,
        )
    return [(rule, int(r["marginal_comparison_count"])) for rule, r in zip(job.blocking_rules, records, strict=True)], proportion


def refuse_too_many(job: JobConfig, counts: list[tuple[str, int]], max_comparisons: int) -> None:
    """Refuse, before scoring anything, a blocking that would make more than ``max_comparisons``
    comparisons, naming the rules to tighten."""
    total = sum(n for _, n in counts)
    if total > max_comparisons:
        worst = sorted(counts, key=lambda rn: -rn[1])
        lines = "\n".join(f"    {n:>15,}  {rule}" for rule, n in worst)
        raise UserError(
            f"Job '{job.job}': its blocking rules would make about {total:,} comparisons, more than this "
            f"run allows ({max_comparisons:,}).\n  Comparisons added by each rule:\n{lines}\n"
            f"  Fix: {_where_to_tighten(job)}, or raise --max-comparisons."
        )


def _where_to_tighten(job: JobConfig) -> str:
    preset = job.blocking_rules_from
    if preset is None or preset == job.path:
        return f"tighten the largest rules in {job.path} (linkage.blocking_rules)"
    return (f"the rules come from {preset}, which other jobs include too: give this job its own "
            f"linkage.blocking_rules in {job.path}, with the largest rules tightened")
