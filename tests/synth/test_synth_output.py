"""Determinism, the manifest, header conventions, noise rates and the name and address model."""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from synth_helpers import Exercise

from matching.cli import cli
from matching.errors import UserError
from matching.synth import Rates, generate
from matching.synth.names import sample_surnames
from matching.synth.noise import _postcode_typo, typo

POSTCODE = re.compile(r"^[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate(600, 11, tmp_path / "a", "csv", command="matching synth (test)")
    generate(600, 11, tmp_path / "b", "csv", command="matching synth (test)")
    generate(600, 12, tmp_path / "c", "csv", command="matching synth (test)")
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert a == b
    assert a["kingston/payroll.csv"] != c["kingston/payroll.csv"]
    assert a["truth/inconsistencies.csv"] != c["truth/inconsistencies.csv"]


def test_the_command_writes_an_exercise_and_refuses_a_folder_that_is_not_one(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    result = CliRunner().invoke(cli, ["synth", "--people", "300", "--seed", "3", "--out", str(out), "--format", "psv",
                                                "--bodies", "kingston,dwp"])
    assert result.exit_code == 0, result.output
    bodies = {p.name for p in out.iterdir() if p.is_dir()}
    assert bodies == {"kingston", "dwp", "truth"}
    assert (out / "kingston" / "payroll.txt").read_text(encoding="utf-8").splitlines()[0].count("|") > 10
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["synth", "--people", "300", "--seed", "3", "--out", str(other)])
    assert result.exit_code == 2 and "not empty" in result.output
    with pytest.raises(UserError, match="unknown body"):
        generate(300, 3, tmp_path / "x", bodies=("camden",))


def test_an_earlier_exercise_is_replaced_but_a_delivery_with_a_manifest_is_never_emptied(tmp_path: Path) -> None:
    """synth replaces only what synth wrote: ingest-dir's delivery folders have a manifest.toml
    too, and once one holding real files was emptied."""
    def synth(out: Path, fmt: str = "csv") -> Any:
        return CliRunner().invoke(cli, ["synth", "--people", "200", "--seed", "4", "--out", str(out), "--format", fmt,
                                                  "--bodies", "kingston"])

    delivery = tmp_path / "delivery"
    delivery.mkdir()
    (delivery / "manifest.toml").write_text('[[files]]\nkind = "payroll"\nbody = "kingston"\nfile = "real.csv"\n')
    (delivery / "real.csv").write_text("Employee Number,Surname\nE1,Smith\n")
    result = synth(delivery)
    assert result.exit_code == 2 and "holds no exercise written by matching synth" in result.output
    assert sorted(p.name for p in delivery.iterdir()) == ["manifest.toml", "real.csv"]

    out = tmp_path / "ex"
    assert synth(out).exit_code == 0
    assert synth(out, "psv").exit_code == 0  # replaced: no CSV of the first is left
    assert not [p for p in out.rglob("*.csv") if p.parent.name != "truth"]
    (out / "kingston" / "notes.txt").write_text("an officer's note")
    result = synth(out)
    assert result.exit_code == 2 and "kingston/notes.txt" in result.output and "not replaced" in result.output
    assert (out / "kingston" / "notes.txt").read_text() == "an officer's note"
    assert (out / "kingston" / "payroll.txt").exists()
    # A manifest naming files outside its folder deletes nothing there.
    (out / "kingston" / "notes.txt").unlink()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = out / "manifest.toml"
    manifest.write_text(manifest.read_text() + f'\n[[files]]\nkind = "payroll"\nbody = "kingston"\nfile = "../victim.txt"\n\n'
                        f'[[files]]\nkind = "payroll"\nbody = "kingston"\nfile = "{victim}"\n')
    assert synth(out).exit_code == 0
    assert victim.read_text() == "keep me"


def test_manifest_lists_every_file_with_kind_body_and_row_count(exercise: Exercise) -> None:
    m = exercise.manifest
    assert m["exercise"]["seed"] == 20261129 and m["exercise"]["people"] == 2000
    listed = {f["file"] for f in m["files"]}
    on_disk = {str(p.relative_to(exercise.out)) for p in exercise.out.rglob("*.csv") if p.parent.name != "truth"}
    assert listed == on_disk
    for f in m["files"]:
        assert len(exercise.rows(f["file"])[1]) == f["rows"]
    kinds = {f["kind"] for f in m["files"]}
    assert len(kinds) == 21
    assert {f["body"] for f in m["files"] if f["kind"] == "person"} == {"kingston", "richmond"}
    assert (exercise.out / "README.md").read_text(encoding="utf-8").startswith("# Synthetic data-matching exercise")


def test_header_names_vary_between_bodies(exercise: Exercise) -> None:
    varied = 0
    kinds = {f["kind"] for f in exercise.manifest["files"]}
    for kind in kinds:
        headers = {f["body"]: tuple(exercise.rows(f["file"])[0]) for f in exercise.files(kind)}
        if len(headers) > 1:
            assert len(set(headers.values())) == len(headers), kind
            varied += 1
    assert varied >= 15


def _within(applied: int, eligible: int, rate: float) -> bool:
    if eligible == 0:
        return True
    sd = math.sqrt(max(rate * (1 - rate), 1e-9) / eligible)
    return abs(applied / eligible - rate) <= 4.5 * sd + 0.003


def test_noise_rates_are_within_tolerance_of_the_configured_rates(exercise: Exercise) -> None:
    rates = Rates()
    checked = 0
    for (kind, _body, name), _ in exercise.summary.noise.counts.items():
        applied, eligible = exercise.summary.noise.rate(name, kind)
        rate = getattr(rates.noise(kind), name)
        if name == "typo":
            continue  # secondary names get half the rate: checked on the subject's names below
        if eligible >= 200:
            assert _within(applied, eligible, rate), (kind, name, applied, eligible, rate)
            checked += 1
    assert checked >= 40


def test_noise_is_visible_in_the_files_at_the_configured_rates(exercise: Exercise) -> None:
    rates = Rates()
    # Council tax holds few dates of birth: 60% of them are blank.
    rows = [r for f in exercise.files("council_tax") for r in exercise.records("council_tax", f["body"]).values()]
    blank = sum(1 for r in rows if not r["dob"])
    assert _within(blank, len(rows), rates.noise("council_tax").dob_missing)
    # Housing benefit claimants are adults: every one has an NI number, 1% not given.
    rows = list(exercise.records("housing_benefit", "dwp").values())
    blank = sum(1 for r in rows if not r["ni_number"])
    assert _within(blank, len(rows), rates.noise("housing_benefit").ni_missing)


def test_the_same_person_looks_different_in_different_files(exercise: Exercise) -> None:
    by_person: dict[str, list[tuple[str, str, str]]] = {}
    for (kind, body, rid), e in exercise.entities.items():
        if e["person_id"] and kind not in ("trade_creditors", "pupils", "school_admissions", "free_school_meals"):
            by_person.setdefault(e["person_id"], []).append((kind, body, rid))
    differing = 0
    seen = 0
    for refs in by_person.values():
        if len(refs) < 3:
            continue
        names = {(exercise.records(k, b)[r]["forenames"], exercise.records(k, b)[r]["surname"]) for k, b, r in refs}
        seen += 1
        differing += len(names) > 1
    assert seen > 50 and 0.2 < differing / seen < 0.95


def test_typos_and_postcode_typos_keep_values_plausible() -> None:
    rng = np.random.default_rng(1)
    for word in ("Smith", "Catherine", "O'Brien", "Min-jun"):
        for _ in range(50):
            t = typo(word, rng)
            assert abs(len(t) - len(word)) <= 1 and t[0] == word[0]
    for _ in range(200):
        pc = _postcode_typo("KT1 2AB", rng)
        assert POSTCODE.match(pc) and pc != "KT1 2AB" and pc.startswith("KT1 ")


def test_postcodes_are_valid_and_in_the_boroughs(exercise: Exercise) -> None:
    outward = Counter()
    for f in exercise.files("council_tax"):
        for r in exercise.records("council_tax", f["body"]).values():
            pc = r["postcode"].strip().upper()
            if " " not in pc:
                pc = pc[:-3] + " " + pc[-3:]
            assert POSTCODE.match(pc), pc
            outward[pc.split()[0]] += 1
    assert set(outward) <= {"KT1", "KT2", "KT3", "KT5", "KT6", "KT9", "TW1", "TW2", "TW9", "TW10", "TW11", "TW12",
                            "SW13", "SW14", "SL3", "SL4", "SL5", "SL6"}


def test_common_surnames_are_common_and_rare_ones_rare() -> None:
    names = Counter(sample_surnames(np.random.default_rng(3), np.zeros(50_000, dtype=np.int64)))
    top = [n for n, _ in names.most_common(5)]
    assert top[0] == "Smith" and "Jones" in top
    assert sum(1 for c in names.values() if c <= 2) > 1000


def test_python_m_matching_synth_says_a_refusal_as_the_cli_does(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "notes.txt").write_text("mine")
    r = subprocess.run([sys.executable, "-m", "matching.synth", "--people", "100", "--seed", "1", "--out", str(tmp_path)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "not empty and holds no exercise written by matching synth" in r.stderr
