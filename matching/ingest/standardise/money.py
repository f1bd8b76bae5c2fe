"""Money: an amount in pence (BIGINT), however it was written.

The data specifications ask for pence without a decimal point ('12345' is £123.45), so a
plain whole number is pence. A value with a pound sign or a decimal point is pounds:
'£123.45', '123.45', '1,234.56', '£12' -> pence. Negative amounts may be written '-12.00',
'£-12.00', '(12.00)' or '12.00-'. Thousands separators must be in the right places.

Defects: 'more than two decimal places' ('12.345'), else 'not an amount of money'.
"""

from __future__ import annotations

from matching.ingest.standardise.sql import bind, first_defect, let, literal, unless
from matching.specs import FieldSpec

NOT_MONEY = "not an amount of money"
TOO_PRECISE = "more than two decimal places"

# open bracket, minus, pound sign, minus, whole part, decimals, close bracket, minus
_AMOUNT = r"(\()?(-)?£?(-)?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d*))?(\))?(-)?"
_GROUPS = "['open', 'minus1', 'minus2', 'whole', 'decimals', 'close', 'minus3']"


def _compact(raw: str) -> str:
    return bind(f"CASE WHEN contains({raw}, ' ') THEN replace({raw}, ' ', '') ELSE {raw} END")


def _amount(s: str) -> str:
    def read(m: str) -> str:
        signs = f"(({m}.open <> '')::INT + ({m}.minus1 <> '')::INT + ({m}.minus2 <> '')::INT + ({m}.minus3 <> '')::INT)"
        ok = (
            f"regexp_full_match({s}, {literal(_AMOUNT)}) AND ({m}.whole <> '' OR {m}.decimals <> '') "
            f"AND ({m}.open = '') = ({m}.close = '') AND {signs} <= 1 "
            f"AND length({m}.decimals) <= 2 AND length({m}.whole) <= 16"
        )
        unit = f"CASE WHEN contains({s}, '£') OR contains({s}, '.') THEN 100 ELSE 1 END"
        whole = f"CAST(coalesce(NULLIF(replace({m}.whole, ',', ''), ''), '0') AS BIGINT)"
        pence = f"CAST(rpad({m}.decimals, 2, '0') AS BIGINT)"
        return f"CASE WHEN {ok} THEN (CASE WHEN {signs} = 1 THEN -1 ELSE 1 END) * ({whole} * {unit} + {pence}) END"

    return let(f"regexp_extract({s}, {literal(_AMOUNT)}, {_GROUPS})", read)


def clean_money_pence(raw: str, field: FieldSpec) -> tuple[str, str]:
    """Pence as BIGINT, and why a non-blank amount was nulled."""
    s = _compact(raw)
    pounds = f"CASE WHEN regexp_full_match({s}, '£?\\d{{1,13}}\\.\\d\\d') THEN CAST(replace(replace({s}, '£', ''), '.', '') AS BIGINT) ELSE {_amount(s)} END"
    value = unless(f"regexp_full_match({s}, '-?\\d{{1,15}}')", f"CAST({s} AS BIGINT)", pounds)
    defect = first_defect([(f"regexp_full_match({s}, '[(£-]*\\d[\\d,]*\\.\\d{{3,}}[)-]?')", TOO_PRECISE), ("true", NOT_MONEY)])
    return value, defect
