"""Trade creditors and the payments made to them.

Most suppliers are companies at business premises, in the boroughs or elsewhere; some
national suppliers serve all three councils. About a fifth are individuals paid as
creditors (sole traders, childminders, foster carers) at their home address, often with
their personal bank account. Each supplier sends invoices with its own numbering; some bill
the same amount every month.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matching.synth.addresses import build_premises
from matching.synth.population import SORT_CODE_PREFIXES
from matching.synth.table import NAT, Table, date, days, uniform_dates
from matching.synth.world import World

TRADES = ("Building Services", "Plumbing & Heating", "Electrical Contractors", "Cleaning Services", "Catering",
          "Consulting", "Care Services", "Transport", "Office Supplies", "IT Solutions", "Grounds Maintenance",
          "Security", "Roofing", "Decorators", "Legal Services", "Training", "Print & Design", "Waste Management")
SOLE_TRADES = ("Decorating", "Plumbing", "Electrical", "Gardening", "Tutoring", "Childminding", "Cleaning",
               "Carpentry", "Driving Services", "Interpreting")
SUFFIXES = ("Ltd", "Limited", "Ltd", "LLP", "& Co", "Ltd", "Group Ltd", "UK Ltd")
INVOICE_STYLES = ("INV-{n:05d}", "{n}", "SI{n:06d}", "INV{n:06d}", "{y}/{n:04d}", "A{n:05d}")
PERIOD_START = "2025-04-01"


def creditors(w: World, seq: dict[str, list[int]]) -> None:
    """Each council's creditors: about 12 per 1,000 residents."""
    rng = w.rng
    p = w.people
    n_people = len(p)
    n = max(10, int(round(n_people * 0.012)))
    premises = build_premises(rng, n, seq["uprn"])
    w.addresses = Table.concat([w.addresses, _as_addresses(premises, w.addresses)])
    first_premises = len(w.addresses) - n
    stems = np.array(["Thames", "Riverside", "Kingsway", "Crown", "Apex", "Beacon", "Meridian", "Oakwood", "Summit",
                      "Castle", "Royal", "Sterling", "Premier", "Phoenix", "Heritage", "Atlas", "Bridge", "Evergreen"])
    rows: list[dict] = []
    for i in range(n):
        name = f"{stems[rng.integers(len(stems))]} {TRADES[int(rng.integers(len(TRADES)))]} {SUFFIXES[int(rng.integers(len(SUFFIXES)))]}"
        bodies = [int(rng.integers(3))] if rng.random() > 0.2 else [0, 1, 2]  # a national supplier serves all three
        rows.append({"name": name, "addr": first_premises + i, "owner": -1, "bodies": bodies, "vat": rng.random() < 0.7,
                     "company": rng.random() < 0.85})
    # Individuals paid as creditors, at home.
    adults = np.flatnonzero((p["age"] >= 22) & (p["age"] < 75) & np.isnat(p["dod"]))
    k = min(len(adults), max(3, int(round(n * 0.25))))
    for who in rng.choice(adults, k, replace=False) if k else []:
        rows.append(individual_creditor(w, int(who), [int(p["borough"][who])]))
    t = _creditor_table(w, rows)
    w.add_rows("trade_creditors", t)


def individual_creditor(w: World, who: int, bodies: list[int], same_bank: bool | None = None,
                        at_home: bool = True) -> dict:
    rng = w.rng
    p = w.people
    trade = SOLE_TRADES[int(rng.integers(len(SOLE_TRADES)))]
    f, s = p["forenames"][who], p["surname"][who]
    style = rng.random()
    name = (f"{f[0]} {s} {trade}" if style < 0.4 else f"{f} {s}" if style < 0.7 else f"{s} {trade}" if style < 0.9
            else f"{s}, {f}")
    own_bank = (rng.random() < 0.5) if same_bank is None else same_bank
    return {"name": name, "addr": int(p["property"][who]) if at_home else -1, "owner": who, "bodies": bodies,
            "vat": rng.random() < 0.1, "company": False, "own_bank": own_bank}


def _creditor_table(w: World, rows: list[dict]) -> Table:
    rng = w.rng
    p = w.people
    out: dict[str, list] = {k: [] for k in ("body", "creditor_name", "addr", "owner", "contact", "sort_code",
                                            "account_number", "vat_number", "company_number", "created_date",
                                            "bank_details_changed_date", "supplier", "fixed_amount", "invoice_style")}
    supplier = w.row_ids("_supplier", len(rows))
    for r, sup in zip(rows, supplier, strict=True):
        owner = r["owner"]
        if owner >= 0 and r.get("own_bank"):
            sort, acc = p["sort_code"][owner], p["account_number"][owner]
        else:
            sort = f"{SORT_CODE_PREFIXES[int(rng.integers(len(SORT_CODE_PREFIXES)))]}{int(rng.integers(100)):02d}"
            acc = f"{int(rng.integers(0, 100_000_000)):08d}"
        vat = f"GB{int(rng.integers(100_000_000, 999_999_999))}" if r["vat"] else ""
        company = f"{int(rng.integers(1_000_000, 16_000_000)):08d}" if r["company"] else ""
        contact = int(owner) if owner >= 0 else -1
        fixed = int(rng.integers(20, 3000)) * 100 * 5 if rng.random() < 0.3 else 0
        style = int(rng.integers(len(INVOICE_STYLES)))
        for b in r["bodies"]:
            created = uniform_dates(rng, w.ref - days(12 * 365), w.ref - days(60), 1)[0]
            changed = uniform_dates(rng, created, w.ref - days(1), 1)[0] if rng.random() < 0.3 else NAT
            for k, v in (("body", b), ("creditor_name", r["name"]), ("addr", r["addr"]), ("owner", owner),
                         ("contact", contact), ("sort_code", sort), ("account_number", acc), ("vat_number", vat),
                         ("company_number", company), ("created_date", created), ("bank_details_changed_date", changed),
                         ("supplier", sup), ("fixed_amount", fixed), ("invoice_style", style)):
                out[k].append(v)
    dtypes: dict[str, Any] = {"body": np.int64, "addr": np.int64, "owner": np.int64, "contact": np.int64, "supplier": np.int64,
              "fixed_amount": np.int64, "invoice_style": np.int64, "created_date": "datetime64[D]",
              "bank_details_changed_date": "datetime64[D]"}
    t = Table({k: np.asarray(v, dtype=dtypes.get(k, object)) for k, v in out.items()})
    t["person"] = t["owner"]
    return t


def add_creditors(w: World, rows: list[dict]) -> np.ndarray:
    return w.add_rows("trade_creditors", _creditor_table(w, rows))


def _as_addresses(premises: Table, like: Table) -> Table:
    n = len(premises)
    out = Table(n=n)
    for name, col in like.items():
        if name in premises:
            out[name] = premises[name].astype(col.dtype) if col.dtype != object else premises[name]
        elif col.dtype == object:
            out[name] = np.full(n, "", dtype=object)
        else:
            out[name] = np.full(n, -1, dtype=col.dtype)
    return out


def payments(w: World) -> None:
    """Invoices paid in the period: about a dozen per creditor."""
    rng = w.rng
    c = w.tables["trade_creditors"]
    rows: dict[str, list] = {k: [] for k in ("creditor_row", "body", "invoice", "invoice_number", "invoice_date",
                                             "payment_date", "invoice_amount", "vat_amount", "purchase_order_number")}
    start = date(PERIOD_START)
    for i in range(len(c)):
        k = int(rng.poisson(12 if c["owner"][i] < 0 else 5))
        if not k:
            continue
        first_no = int(rng.integers(100, 90_000))
        dates = np.sort(uniform_dates(rng, start, w.ref - days(50), k))
        typical = np.exp(rng.normal(np.log(1500), 1.3))
        for j in range(k):
            if c["fixed_amount"][i]:
                amount = int(c["fixed_amount"][i])
            else:
                amount = int(max(500, round(np.exp(rng.normal(np.log(typical), 0.5)) * 100)))
            inv_date = dates[j]
            number = INVOICE_STYLES[int(c["invoice_style"][i])].format(n=first_no + j * int(rng.integers(1, 40)),
                                                                       y=int(str(inv_date)[:4]))
            paid = inv_date + np.timedelta64(int(rng.integers(7, 45)), "D")
            vat = round(amount / 6) if c["vat_number"][i] else 0
            po = f"PO{int(rng.integers(1_000_000, 9_999_999))}" if rng.random() < 0.6 else ""
            for key, v in (("creditor_row", int(c["row_id"][i])), ("body", int(c["body"][i])),
                           ("invoice", int(w.row_ids("_invoice", 1)[0])), ("invoice_number", number),
                           ("invoice_date", inv_date), ("payment_date", paid), ("invoice_amount", amount),
                           ("vat_amount", vat), ("purchase_order_number", po)):
                rows[key].append(v)
    dtypes: dict[str, Any] = {"creditor_row": np.int64, "body": np.int64, "invoice": np.int64, "invoice_date": "datetime64[D]",
              "payment_date": "datetime64[D]", "invoice_amount": np.int64, "vat_amount": np.int64}
    t = Table({k: np.asarray(v, dtype=dtypes.get(k, object)) for k, v in rows.items()})
    t["person"] = np.full(len(t), -1, dtype=np.int64)
    t["addr"] = np.full(len(t), -1, dtype=np.int64)
    w.add_rows("trade_creditor_payments", t)
