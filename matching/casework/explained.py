"""An explanation as a reviewer reads it: the bodies it names by their names, not their codes.

A run knows bodies by code only ("Employee 0042 of kingston ..."); their names are the case
store's (set by a superuser, and changed at any time), so the explanation is written with the
code and each body it names is shown by its current name wherever a person reads it: the
queue, the match page, the set-aside page, the CLI and exports. Only the bodies of the match's
own records and its owner are looked for, each as a word of its own, exactly as its code is
written (lower case), between spaces, brackets or the ends of the text, or before a comma,
semicolon, colon or full stop that ends a clause: not inside "kingston.ac.uk", a
"kingston-college" or a "KINGSTON" (names and addresses are in capitals). A code of digits
alone is never looked for (it would be taken for a number of hours or days), and a body whose
name is still its code is left as it is. A record's free text may still hold a code as a word
of its own ("kingston adult education"); it then reads with the body's name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from matching.casework.models import Body


def body_names() -> dict[str, str]:
    """Each body's name by code, for the bodies that have been given one."""
    return {code: name for code, name in Body.objects.values_list("code", "name") if name and name != code}


def explained(text: str, codes: Iterable[str], names: dict[str, str]) -> str:
    """``text`` with each of ``codes`` that has a name written as that name."""
    named = frozenset(c for c in codes if c in names and not c.isdigit())
    if not named or not text:
        return text
    return _pattern(named).sub(lambda m: names[m.group(1)], text)


@functools.lru_cache(maxsize=256)
def _pattern(codes: frozenset[str]) -> re.Pattern[str]:
    """The codes as words of their own (longest first), compiled once for every row that names them."""
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(r"(?:^|(?<=[\s(]))(" + alternatives + r")(?=$|[\s)]|[.,;:](?:\s|$))")


def explanation_of(item: Any, names: dict[str, str]) -> str:
    """A match's (or a set-aside row's) explanation with the bodies of its records and its
    owner by name."""
    codes = (item.owning_body.code, item.left_body, item.right_body, getattr(item, "also_linked_right_body", ""))
    return explained(item.explanation, codes, names)
