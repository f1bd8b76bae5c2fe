"""Every standard job ships a model that fits its config, so `run` never has to train."""

from __future__ import annotations

import pytest

from matching.jobs.config import list_jobs, load_job
from matching.linkage.settings import apply_model, read_model, settings_dict
from matching.specs import configs_dir


@pytest.mark.parametrize("name", list_jobs())
def test_the_shipped_model_fits_the_job_config(name: str) -> None:
    path = configs_dir() / "models" / f"{name}.json"
    assert path.exists(), f"no shipped model for {name}: run `make models`"
    job = load_job(name)
    settings = apply_model(job, settings_dict(job), read_model(path), path)
    assert 0 < settings["probability_two_random_records_match"] < 1
    # The model is really trained: its comparisons have learnt (or pinned) probabilities. A
    # comparison over a column one side never holds (email on deaths) may stay at Splink's
    # defaults, since such pairs only ever reach its null level.
    trained = [
        c["output_column_name"]
        for c in settings["comparisons"]
        if sum(isinstance(lv.get("m_probability"), float) and isinstance(lv.get("u_probability"), float)
               for lv in c["comparison_levels"] if not lv.get("is_null_level")) >= 2
    ]
    assert len(trained) >= min(3, len(settings["comparisons"])), (name, trained)
    # Trained from the config as it is now (training names the model after the config's
    # hash), so `make models` reproduces the shipped model: a config edited since needs
    # `matching train NAME --ship` (or `make models`).
    assert read_model(path)["linker_uid"] == f"m{job.config_hash[:7]}", f"{name}: config changed since its model was shipped"


@pytest.mark.parametrize(
    ("exact", "own_u"),
    [
        ("surname_l = surname_r", False),
        ("(surname_l = surname_r)", False),  # Splink finds it through the brackets: so must we
        ("surname_l = forename_r", True),  # a column compared with another: no exact level
    ],
)
def test_a_term_frequency_level_takes_its_u_where_splink_can_find_one(exact: str, own_u: bool) -> None:
    """Splink raises at run when a term-frequency level's comparison has no exact-match level
    on its column (such as a child's surname compared with a partner's): the level's own u
    serves then, and only then."""
    from matching.jobs.config import ComparisonConfig
    from matching.linkage.settings import _comparison

    config = ComparisonConfig(name="surname", comparison="custom", column=None, args={}, term_frequency_adjustments=False,
                              levels=({"sql": exact, "label": "first"},
                                      {"sql": "jaro_winkler_similarity(surname_l, surname_r) >= 0.9", "label": "close",
                                       "tf_column": "surname"},
                                      {"else": True, "label": "other"}))
    levels = _comparison(config, "duckdb").get_comparison("duckdb").comparison_levels
    assert bool(levels[1].disable_tf_exact_match_detection) is own_u
