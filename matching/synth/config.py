"""What the exercise plants and how messy each dataset is: rates with defaults, overridable
from a TOML file (``matching synth --config rates.toml``).

```toml
[planted]                 # inconsistencies planted per 1,000 people, per job
hb-to-payroll = 3.0
[hard_negatives]          # look-alike pairs planted per 1,000 people, per job
hb-to-deceased = 2.0
[noise.default]           # applied to every dataset unless overridden
typo = 0.02
[noise.payroll]
ni_missing = 0.01
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from matching.errors import ConfigError
from matching.toml_files import read_toml

EXERCISE_DATE = "2026-10-01"  # the date every dataset is extracted "as at"
TAX_YEAR_START = "2026-04-06"

JOBS = (
    "hb-to-payroll", "ctr-to-payroll", "hb-to-deceased", "ctr-to-deceased", "pensions-to-deceased",
    "blue-badges-to-deceased", "concessionary-travel-to-deceased", "spd-to-electoral-register", "spd-to-post16",
    "payroll-to-payroll", "payroll-to-creditors", "tenants-to-tenants", "hb-to-student-loans",
    "ctr-to-student-loans", "admissions-to-council-tax", "admissions-to-electoral-register", "fsm-to-payroll",
    "duplicate-payments",
)
# (left kind, right kind) of each job; the left is the first-named dataset.
JOB_KINDS: dict[str, tuple[str, str]] = {
    "hb-to-payroll": ("housing_benefit", "payroll"),
    "ctr-to-payroll": ("council_tax_reduction", "payroll"),
    "hb-to-deceased": ("housing_benefit", "deceased_persons"),
    "ctr-to-deceased": ("council_tax_reduction", "deceased_persons"),
    "pensions-to-deceased": ("pensions", "deceased_persons"),
    "blue-badges-to-deceased": ("blue_badges", "deceased_persons"),
    "concessionary-travel-to-deceased": ("concessionary_travel", "deceased_persons"),
    "spd-to-electoral-register": ("council_tax", "electoral_register"),
    "spd-to-post16": ("council_tax", "post16_learners"),
    "payroll-to-payroll": ("payroll", "payroll"),
    "payroll-to-creditors": ("payroll", "trade_creditors"),
    "tenants-to-tenants": ("housing_tenants", "housing_tenants"),
    "hb-to-student-loans": ("housing_benefit", "student_loans"),
    "ctr-to-student-loans": ("council_tax_reduction", "student_loans"),
    "admissions-to-council-tax": ("school_admissions", "council_tax"),
    "admissions-to-electoral-register": ("school_admissions", "electoral_register"),
    "fsm-to-payroll": ("free_school_meals", "payroll"),
    "duplicate-payments": ("trade_creditor_payments", "trade_creditor_payments"),
}

DEFAULT_PLANTED = {
    "hb-to-payroll": 2.0, "ctr-to-payroll": 2.0, "hb-to-deceased": 2.0, "ctr-to-deceased": 2.0,
    "pensions-to-deceased": 2.0, "blue-badges-to-deceased": 2.0, "concessionary-travel-to-deceased": 2.0,
    "spd-to-electoral-register": 3.0, "spd-to-post16": 2.0, "payroll-to-payroll": 2.0,
    "payroll-to-creditors": 2.0, "tenants-to-tenants": 2.0, "hb-to-student-loans": 2.0,
    "ctr-to-student-loans": 2.0, "admissions-to-council-tax": 2.0, "admissions-to-electoral-register": 1.0,
    "fsm-to-payroll": 2.0, "duplicate-payments": 3.0,
}
DEFAULT_HARD_NEGATIVES = {job: 1.5 for job in JOBS}

# Severity for the money threshold of the free school meals rule: £7,400 a year.
FSM_EARNINGS_THRESHOLD_PENCE = 740_000


@dataclass(frozen=True)
class Noise:
    """How messy one dataset is. Rates are fractions of the values (or records) they can apply to."""

    typo: float = 0.02  # a name value with one keying error
    nickname: float = 0.05  # a forename given as its nickname (Bill for William)
    initials: float = 0.02  # forename given as its initial
    swap_names: float = 0.005  # forename and surname swapped
    married_surname: float = 0.15  # of people with a maiden name: the maiden name is used
    title_in_forename: float = 0.015  # "Mr John" in the forename field, title blank
    middle_in_forename: float = 0.05  # middle names written into the forename field
    title_missing: float = 0.1
    dob_missing: float = 0.03  # only where dob is not required
    dob_swap: float = 0.01  # of dates that stay valid with day and month swapped
    ni_missing: float = 0.08
    postcode_typo: float = 0.01  # still a valid-format postcode, but the wrong one
    postcode_nospace: float = 0.05
    address_abbrev: float = 0.3  # Road -> Rd, Avenue -> Ave
    address_drop_county: float = 0.5
    uprn_missing: float = 0.1
    email_missing: float = 0.1
    phone_missing: float = 0.1
    upper: float = 0.1  # a record's names and address in capitals
    whitespace: float = 0.02  # stray spaces around or inside a value
    invalid: float = 0.002  # records made unusable (blank key or blank required field): ingest must reject them

    def merged(self, overrides: dict[str, Any]) -> Noise:
        known = {f.name for f in fields(self)}
        bad = set(overrides) - known
        if bad:
            raise ConfigError(f"noise: unknown setting {sorted(bad)[0]!r}\n  Fix: use one of {', '.join(sorted(known))}")
        return replace(self, **{k: float(v) for k, v in overrides.items()})


# Per kind: how its real exports differ from the default.
KIND_NOISE: dict[str, dict[str, float]] = {
    "payroll": {"ni_missing": 0.01, "dob_missing": 0.005, "nickname": 0.02, "uprn_missing": 0.9},
    "pensions": {"ni_missing": 0.01, "dob_missing": 0.0, "married_surname": 0.05, "uprn_missing": 1.0},
    "deceased_persons": {"ni_missing": 0.15, "nickname": 0.0, "initials": 0.0, "married_surname": 0.0,
                         "uprn_missing": 1.0, "email_missing": 1.0, "phone_missing": 1.0, "typo": 0.01},
    "housing_benefit": {"ni_missing": 0.01, "uprn_missing": 0.3},
    "council_tax_reduction": {"ni_missing": 0.02, "uprn_missing": 0.2},
    "council_tax": {"dob_missing": 0.6, "initials": 0.05, "married_surname": 0.3, "uprn_missing": 0.05},
    "electoral_register": {"uprn_missing": 0.05, "married_surname": 0.1},
    "housing_tenants": {"uprn_missing": 0.05},
    "student_loans": {"ni_missing": 0.05, "uprn_missing": 1.0},
    "pupils": {"nickname": 0.02, "initials": 0.0, "uprn_missing": 0.2},
    "post16_learners": {"ni_missing": 0.6, "nickname": 0.03, "initials": 0.0},
    "school_admissions": {"nickname": 0.06},
    "free_school_meals": {"ni_missing": 0.05},
    "resident_parking_permits": {"nickname": 0.08, "initials": 0.06, "uprn_missing": 0.5},
    "blue_badges": {"ni_missing": 0.3},
    "concessionary_travel": {"ni_missing": 0.5},
    "trade_creditors": {"typo": 0.01},
    "person": {"nickname": 0.1, "initials": 0.04, "dob_missing": 0.25, "ni_missing": 0.7, "uprn_missing": 0.8},
}


@dataclass(frozen=True)
class Rates:
    """Planted inconsistencies and hard negatives per 1,000 people, and noise per kind."""

    planted: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PLANTED))
    hard_negatives: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HARD_NEGATIVES))
    noise_default: Noise = field(default_factory=Noise)
    noise_by_kind: dict[str, dict[str, float]] = field(default_factory=lambda: {k: dict(v) for k, v in KIND_NOISE.items()})

    def noise(self, kind: str) -> Noise:
        return self.noise_default.merged(self.noise_by_kind.get(kind, {}))

    @classmethod
    def load(cls, path: str | Path | None) -> Rates:
        """Defaults, with whatever ``path`` (a TOML file) overrides."""
        rates = cls()
        if path is None:
            return rates
        p = Path(path)
        data = read_toml(p, "rates file")
        planted = dict(rates.planted)
        hard = dict(rates.hard_negatives)
        for section, target in (("planted", planted), ("hard_negatives", hard)):
            for job, value in data.get(section, {}).items():
                if job not in JOBS:
                    raise ConfigError(f"{p}: [{section}] {job!r} is not a job\n  Fix: use one of {', '.join(JOBS)}")
                target[job] = float(value)
        noise = data.get("noise", {})
        default = rates.noise_default.merged(noise.get("default", {}))
        by_kind = {k: dict(v) for k, v in rates.noise_by_kind.items()}
        for kind, overrides in noise.items():
            if kind != "default":
                default.merged(overrides)  # check the names now
                by_kind.setdefault(kind, {}).update(overrides)
        return cls(planted, hard, default, by_kind)
