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
    # Every comparison has learnt (or pinned) probabilities; a level the training data never
    # showed (a UPRN on a side that has none) may stay at Splink's default.
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        trained = [lv for lv in levels if isinstance(lv.get("m_probability"), float) and isinstance(lv.get("u_probability"), float)]
        assert len(trained) >= 2, (name, comparison["output_column_name"])
