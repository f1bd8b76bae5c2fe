"""An explanation as a reviewer reads it: the bodies it names by their names, not their codes.

A run knows bodies by code only ("Employee 0042 of kingston ..."); their names are the case
store's (set by a superuser, and changed at any time), so the explanation is written with the
code and each body it names is shown by its current name wherever a person reads it: the
queue, the match page, the set-aside page, the CLI and exports. Only the bodies of the match's
own records and its owner are looked for, as whole lower-case codes (record values are
standardised to capitals), and a body whose name is still its code is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from matching.casework.models import Body


def body_names() -> dict[str, str]:
    """Each body's name by code, for the bodies that have been given one."""
    return {code: name for code, name in Body.objects.values_list("code", "name") if name and name != code}


def explained(text: str, codes: Iterable[str], names: dict[str, str]) -> str:
    """``text`` with each of ``codes`` that has a name written as that name."""
    named = sorted({c for c in codes if c in names}, key=len, reverse=True)
    if not named or not text:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(c) for c in named) + r")(?![\w-])")
    return pattern.sub(lambda m: names[m.group(1)], text)
