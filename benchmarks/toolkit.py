"""Against the Python Record Linkage Toolkit (`recordlinkage`) on the same records.

Goal (scale issue): on the same 100,000 x 100,000 records, the engine is at least 10x faster
than `recordlinkage`'s best reasonable configuration, at equal or better F1.

Both tools start from the same standardised Parquet (the linkage suite's person files, so the
toolkit gets the engine's cleaning, phonetic keys and address parts for free) and are timed
end to end in fresh processes, side by side in one run:

- the engine: `train` then `run` of person-link (and `run` alone, with the trained model, as
  it is used day to day);
- the bare Splink script of the linkage suite, on the same Parquet and model: the least an
  engine built on Splink's predict can take, so the suite prints how much faster than Splink
  itself the 10x goal would need a run to be;
- the toolkit: read the Parquet into pandas; index with one ``Block`` per person-link
  blocking rule, on the same keys (derived keys such as ``year(dob)`` or
  ``coalesce(postcode, address_line_4)`` computed as columns), so it scores the same
  candidate pairs; compare forename, surname and address with Jaro-Winkler, the date of
  birth, NI number and postcode exactly; classify with **ECM** (the unsupervised
  expectation-conditional-maximisation classifier, on the comparisons binarised at
  Jaro-Winkler >= 0.85). ECM is the like-for-like choice: Splink's model is trained by EM
  without labels, and an exercise has no labels. A logistic regression trained on a 10%
  labelled sample of the candidate pairs (labels from truth, which no real exercise has) is
  also fitted and reported, as the toolkit's ceiling; its fitting time is reported apart.

F1 is pair-level against truth (``L123`` and ``R123`` are the same person).

    BENCH_TOOLKIT_SIZE=100000 python -m benchmarks toolkit
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.common import (
    CHILD_PRELUDE,
    median_run,
    median_runs,
    repeats_for,
    row,
    run_isolated,
    write_result,
)
from benchmarks.linkage import JOB, accuracy, bare_splink, person_files, prepare, run, train

SIZE = int(os.environ.get("BENCH_TOOLKIT_SIZE", "100000"))

# person-link's blocking rules as recordlinkage Blocks: (left keys, right keys).
BLOCKS: list[tuple[list[str], list[str]]] = [
    (["ni_number"], ["ni_number"]),
    (["dob", "surname_phonetic"], ["dob", "surname_phonetic"]),
    (["dob", "forename_phonetic"], ["dob", "forename_phonetic"]),
    (["dob", "pc"], ["dob", "pc"]),
    (["forename", "surname"], ["surname", "forename"]),
    (["pc", "surname_phonetic"], ["pc", "surname_phonetic"]),
    (["pc", "address_number"], ["pc", "address_number"]),
    (["pc", "forename_phonetic"], ["pc", "forename_phonetic"]),
    (["dob_year", "surname_phonetic", "forename_phonetic"], ["dob_year", "surname_phonetic", "forename_phonetic"]),
    (["dob", "address_number"], ["dob", "address_number"]),
    (["surname_phonetic", "forename_phonetic", "address_number"], ["surname_phonetic", "forename_phonetic", "address_number"]),
    (["surname_phonetic", "forename_phonetic", "address_street"], ["surname_phonetic", "forename_phonetic", "address_street"]),
    (["surname_phonetic", "address_number", "address_street"], ["surname_phonetic", "address_number", "address_street"]),
    (["forename_phonetic", "address_number", "address_street"], ["forename_phonetic", "address_number", "address_street"]),
    (["postcode_district", "surname_phonetic", "forename_phonetic"], ["postcode_district", "surname_phonetic", "forename_phonetic"]),
    (["address_number", "address_street", "line3_3"], ["address_number", "address_street", "line3_3"]),
    (["address_line_3", "address_street", "surname_1"], ["address_line_3", "address_street", "surname_1"]),
    (["address_line_3", "address_number", "street_3"], ["address_line_3", "address_number", "street_3"]),
    (["address_line_3", "surname_3", "forename_1"], ["address_line_3", "surname_3", "forename_1"]),
]

TOOLKIT_CODE = CHILD_PRELUDE + """
import numpy as np, pandas as pd, recordlinkage as rl
from recordlinkage.index import Block
LEFT, RIGHT, BLOCKS = {left!r}, {right!r}, {blocks!r}
COLS = ["record_id", "forename", "surname", "dob", "ni_number", "postcode", "address_line_3", "address_line_4",
        "address_number", "address_street", "address_single", "postcode_district", "forename_phonetic", "surname_phonetic"]
t0 = time.perf_counter()
def load(paths):
    df = pd.concat([pd.read_parquet(p, columns=COLS) for p in paths], ignore_index=True)
    df["dob"] = df["dob"].astype("string")
    df["pc"] = df["postcode"].fillna(df["address_line_4"])
    df["dob_year"] = df["dob"].str[:4]
    df["line3_3"] = df["address_line_3"].str[:3]
    df["surname_1"], df["surname_3"] = df["surname"].str[:1], df["surname"].str[:3]
    df["forename_1"], df["street_3"] = df["forename"].str[:1], df["address_street"].str[:3]
    return df
a, b = load(LEFT), load(RIGHT)
t_load = time.perf_counter()
indexer = rl.Index()
for lk, rk in BLOCKS:
    indexer.add(Block(left_on=lk, right_on=rk))
pairs = indexer.index(a, b)
t_index = time.perf_counter()
c = rl.Compare(n_jobs=1)
c.string("forename", "forename", method="jarowinkler", label="forename")
c.string("surname", "surname", method="jarowinkler", label="surname")
c.string("address_single", "address_single", method="jarowinkler", label="address")
c.exact("dob", "dob", label="dob")
c.exact("ni_number", "ni_number", label="ni_number")
c.exact("postcode", "postcode", label="postcode")
features = c.compute(pairs, a, b)
t_compare = time.perf_counter()
binary = (features >= 0.85).astype(int)
ecm = rl.ECMClassifier(binarize=None)
links = ecm.fit_predict(binary)
t_ecm = time.perf_counter()
def f1(idx):
    if len(idx) == 0:
        return 0.0, 0.0, 0.0
    l_ids = a["record_id"].to_numpy()[idx.get_level_values(0)]
    r_ids = b["record_id"].to_numpy()[idx.get_level_values(1)]
    correct = int(sum(x[1:] == y[1:] for x, y in zip(l_ids, r_ids)))
    p, r = correct / len(idx), correct / {true_pairs}
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
ecm_p, ecm_r, ecm_f1 = f1(links)
# The ceiling: logistic regression on a 10% labelled sample of the candidate pairs.
t_lr0 = time.perf_counter()
l_ids = a["record_id"].to_numpy()[pairs.get_level_values(0)]
r_ids = b["record_id"].to_numpy()[pairs.get_level_values(1)]
is_match = np.array([x[1:] == y[1:] for x, y in zip(l_ids, r_ids)])
rng = np.random.default_rng(7)
sample = rng.random(len(pairs)) < 0.1
lr = rl.LogisticRegressionClassifier()
lr.fit(features[sample], pairs[sample & is_match])
lr_links = lr.predict(features)
t_lr = time.perf_counter() - t_lr0
lr_p, lr_r, lr_f1 = f1(lr_links)
blocked = int(is_match.sum())
done(seconds=t_ecm - t0, load_seconds=t_load - t0, index_seconds=t_index - t_load, compare_seconds=t_compare - t_index,
     classify_seconds=t_ecm - t_compare, candidate_pairs=len(pairs), blocked_true_pairs=blocked,
     ecm={{"links": len(links), "precision": ecm_p, "recall": ecm_r, "f1": ecm_f1}},
     logistic_regression={{"fit_predict_seconds": t_lr, "links": len(lr_links), "precision": lr_p, "recall": lr_r, "f1": lr_f1}})
"""


def toolkit(n: int, true_pairs: int) -> dict[str, Any]:
    ws, _ = prepare(n)
    left, right = person_files(ws)
    return run_isolated(TOOLKIT_CODE.format(left=left, right=right, blocks=BLOCKS, true_pairs=true_pairs))


def run_suite() -> dict[str, Any]:
    from matching.jobs.config import load_job

    n = SIZE
    ws, true_pairs = prepare(n)
    reps = repeats_for(n)
    tr, train_all = median_run(lambda: train(ws), reps)
    left, right = person_files(ws)
    threshold = load_job(JOB).threshold
    # The bare Splink script too, in the same rounds: the least any engine built on Splink's
    # predict can take, so the ratio the 10x goal asks for can be set against Splink's own.
    (ours, run_all), (tk, tk_all), (bare, bare_all) = median_runs(
        [lambda: run(ws), lambda: toolkit(n, true_pairs), lambda: bare_splink(ws, JOB, left, right, threshold)], reps
    )
    acc = accuracy(ours["run_dir"], ws, true_pairs)
    ours_total = tr["seconds"] + ours["seconds"]
    ecm, lr = tk["ecm"], tk["logistic_regression"]
    result: dict[str, Any] = {
        "records_per_side": n,
        "true_pairs": true_pairs,
        "engine": {"train_seconds": round(tr["seconds"], 2), "train_seconds_all": train_all,
                   "run_seconds": round(ours["seconds"], 2), "run_seconds_all": run_all,
                   "train_and_run_seconds": round(ours_total, 2), "comparisons": ours["comparisons"],
                   "run_peak_rss_mib": round(ours["peak_rss_mib"]), "train_peak_rss_mib": round(tr["peak_rss_mib"]), **acc},
        "toolkit": {**tk, "seconds_all": tk_all, "classifier": "ECM (unsupervised), binarised at Jaro-Winkler >= 0.85"},
        "bare_splink": {"seconds": round(bare["seconds"], 2), "seconds_all": bare_all, "pairs": bare["pairs"]},
        "ratio_toolkit_to_engine_train_and_run": round(tk["seconds"] / ours_total, 2),
        "ratio_toolkit_to_engine_run": round(tk["seconds"] / ours["seconds"], 2),
        "ratio_toolkit_to_bare_splink": round(tk["seconds"] / bare["seconds"], 2),
        # The run time the goal asks for, and how many times faster than the bare script that is.
        "goal_run_seconds": round(tk["seconds"] / 10, 3),
        "goal_speedup_over_bare_splink": round(bare["seconds"] / (tk["seconds"] / 10), 1),
        "goal": "engine >= 10x faster than recordlinkage at equal or better F1",
    }
    result["goal_met"] = bool(result["ratio_toolkit_to_engine_train_and_run"] >= 10 and (acc["f1"] or 0) >= ecm["f1"])
    size = f"{n:,} a side"
    result["rows"] = [
        row("recordlinkage 0.16, ECM", tk["seconds"], size=size, key=n, order=0, all_seconds=tk_all,
            peak_rss_mib=tk["peak_rss_mib"], comparisons=tk["candidate_pairs"],
            scoring_seconds=tk["compare_seconds"], true_matches=true_pairs,
            blocking_recall=round(tk["blocked_true_pairs"] / true_pairs, 4),
            ratios={"engine train+run (toolkit / engine)": tk["seconds"] / ours_total,
                    "engine run alone (toolkit / engine)": tk["seconds"] / ours["seconds"],
                    "bare Splink script (toolkit / bare)": tk["seconds"] / bare["seconds"]},
            notes=(f"ECM P {ecm['precision']:.4f}, R {ecm['recall']:.4f}, F1 {ecm['f1']:.4f}; logistic regression on a 10% "
                   f"labelled sample F1 {lr['f1']:.4f} (+{lr['fit_predict_seconds']:.1f} s); engine F1 {acc['f1']} "
                   f"(train {tr['seconds']:.1f} s + run {ours['seconds']:.1f} s); 10x would need a run of "
                   f"{tk['seconds'] / 10:.2f} s, where the bare Splink script takes {bare['seconds']:.2f} s")),
    ]
    write_result("toolkit", result)
    return result
