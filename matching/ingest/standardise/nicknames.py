"""Canonical forenames: BOB -> ROBERT, PEGGY -> MARGARET, so nicknames compare equal.

The source is the maintained ``nicknames`` package (its names.csv, relationship
``has_nickname``). It is many-to-many and American in origin (BILL is a nickname of ROBERT,
WILL and WILLIAM; IAN is listed as a nickname of JOHN), so a deterministic nickname ->
formal map is built from it with three rules, strongest first:

1. ``BRITISH_OVERRIDES``: a short curated list of the nicknames British records use most,
   with the formal name a British register would hold (BILL -> WILLIAM, SALLY -> SARAH).
2. A name in ``BRITISH_FORMAL`` is a given name in its own right in Britain and maps to
   itself (IAN, JACK, HARRY, JAMIE, LEE), even though the dataset lists it as a nickname.
3. Otherwise a nickname maps to the formal name it leads to (following chains such as
   BILLY -> BILL -> WILLIAM) that ranks first in ``BRITISH_FORMAL``; names outside that
   list come after, the one with most nicknames first, then alphabetically.

A name that is not a nickname maps to itself (done by the join, not stored).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

import duckdb
import nicknames
import pyarrow as pa

TABLE = "std_nickname_canonical"

# Formal given names common among adults in England and Wales, roughly most common first.
# Curated by hand, not an official ranking: it only breaks ties when a nickname could
# belong to several names, and marks names never treated as nicknames. Extend it freely.
BRITISH_FORMAL = """
JOHN DAVID MICHAEL JAMES ROBERT WILLIAM MARGARET ELIZABETH MARY SUSAN SARAH PETER PAUL
RICHARD THOMAS CHRISTOPHER MARK ANDREW STEPHEN GEORGE ANTHONY DANIEL MATTHEW EDWARD
PATRICIA CATHERINE JENNIFER HELEN ANNE ANN JANE KAREN JULIE LINDA CHRISTINE DEBORAH NICOLA
EMMA REBECCA VICTORIA ALEXANDER SAMUEL BENJAMIN JOSEPH CHARLES KENNETH RONALD DONALD ALAN
BRIAN KEITH IAN GARY STEVEN SIMON NEIL JONATHAN NICHOLAS PHILIP TIMOTHY GRAHAM MARTIN
HENRY FREDERICK ARTHUR ALBERT ALFRED ERNEST HAROLD LEONARD FRANCIS RAYMOND GERALD ROGER
TERENCE DOUGLAS GORDON KEVIN PATRICK SEAN LEE DEAN CRAIG JASON NATHAN JACOB JOSHUA OLIVER
HARRY JACK JAMIE LIAM LEWIS RYAN ADAM LUKE DOMINIC VINCENT HERBERT WALTER STANLEY BERNARD
DENNIS DEREK TREVOR COLIN BARRY MALCOLM NORMAN ROY GEOFFREY REGINALD LAWRENCE JEREMY
DOROTHY JOAN BARBARA JEAN IRENE EILEEN KATHLEEN DOREEN VALERIE JOYCE EDITH FLORENCE
SANDRA AMANDA SAMANTHA JACQUELINE ALEXANDRA CAROLINE CAROL LOUISE CLAIRE JOANNE RACHEL
LAURA HANNAH CHARLOTTE SOPHIE JESSICA KATIE LUCY AMY GEMMA ABIGAIL ELEANOR ALICE GRACE
PENELOPE JUDITH GILLIAN WENDY PAULINE MAUREEN MARION VERA ROSE DAISY LILY ELLA FRANCES
ANGELA DIANE TERESA THERESA JOSEPHINE MADELINE MAGDALENE VIRGINIA ISABEL ISABELLA
ELSIE MAISIE ROBIN KAY DREW JUDE SANDY
""".split()

BRITISH_OVERRIDES: dict[str, str] = {
    **dict.fromkeys(["BOB", "BOBBY", "ROB", "ROBBIE", "ROBBY"], "ROBERT"),
    **dict.fromkeys(["BILL", "BILLY", "WILL", "WILLIE", "WILLY", "WILF"], "WILLIAM"),
    **dict.fromkeys(["PEGGY", "PEG", "MEG", "MAGGIE", "MADGE", "MARGE"], "MARGARET"),
    **dict.fromkeys(["LIZ", "LIZZIE", "LIZZY", "BETH", "BETTY", "BESS", "BESSIE", "ELIZA", "LIBBY", "BETSY"], "ELIZABETH"),
    **dict.fromkeys(["JIM", "JIMMY", "JIMMIE"], "JAMES"),
    **dict.fromkeys(["JOHNNY", "JONNY"], "JOHN"),
    **dict.fromkeys(["ALEX", "ALEC"], "ALEXANDER"),
    **dict.fromkeys(["CHRIS", "KIT"], "CHRISTOPHER"),
    **dict.fromkeys(["SUE", "SUSIE", "SUZY", "SUZIE"], "SUSAN"),
    **dict.fromkeys(["SAM", "SAMMY"], "SAMUEL"),
    **dict.fromkeys(["TONY"], "ANTHONY"),
    **dict.fromkeys(["FRED", "FREDDIE", "FREDDY"], "FREDERICK"),
    **dict.fromkeys(["TED", "TEDDY", "EDDIE", "EDDY", "ED", "NED"], "EDWARD"),
    **dict.fromkeys(["DICK", "RICK", "RICKY", "RICHIE", "RICH"], "RICHARD"),
    **dict.fromkeys(["MIKE", "MICK", "MICKY", "MICKEY"], "MICHAEL"),
    **dict.fromkeys(["DAVE", "DAVY", "DAVIE"], "DAVID"),
    **dict.fromkeys(["STEVE", "STEVIE"], "STEPHEN"),
    **dict.fromkeys(["PHIL"], "PHILIP"),
    **dict.fromkeys(["NICK", "NICKY"], "NICHOLAS"),
    **dict.fromkeys(["MATT", "MATTY"], "MATTHEW"),
    **dict.fromkeys(["ANDY"], "ANDREW"),
    **dict.fromkeys(["TOM", "TOMMY"], "THOMAS"),
    **dict.fromkeys(["DAN", "DANNY"], "DANIEL"),
    **dict.fromkeys(["JOE", "JOEY"], "JOSEPH"),
    **dict.fromkeys(["BEN", "BENNY"], "BENJAMIN"),
    **dict.fromkeys(["GEOFF", "JEFF"], "GEOFFREY"),
    **dict.fromkeys(["GERRY"], "GERALD"),
    **dict.fromkeys(["TERRY"], "TERENCE"),
    **dict.fromkeys(["LEN", "LENNY", "LENNIE"], "LEONARD"),
    **dict.fromkeys(["RON", "RONNIE"], "RONALD"),
    **dict.fromkeys(["DON", "DONNY", "DONNIE"], "DONALD"),
    **dict.fromkeys(["KEN", "KENNY"], "KENNETH"),
    **dict.fromkeys(["REG", "REGGIE"], "REGINALD"),
    **dict.fromkeys(["ALF", "ALFIE"], "ALFRED"),
    **dict.fromkeys(["BERT", "BERTIE"], "ALBERT"),
    **dict.fromkeys(["ERNIE"], "ERNEST"),
    **dict.fromkeys(["STAN"], "STANLEY"),
    **dict.fromkeys(["WALLY"], "WALTER"),
    **dict.fromkeys(["CHARLIE", "CHAS", "CHUCK"], "CHARLES"),
    **dict.fromkeys(["PAT", "PATSY", "TRISH", "TRICIA", "PATTY"], "PATRICIA"),
    **dict.fromkeys(["KATE", "KATY", "KATHY", "CATH", "CATHY", "KITTY"], "CATHERINE"),
    **dict.fromkeys(["JENNY", "JEN", "JENNI", "JENNIE"], "JENNIFER"),
    **dict.fromkeys(["SALLY", "SAL"], "SARAH"),
    **dict.fromkeys(["DEBBIE", "DEBS", "DEB", "DEBBY"], "DEBORAH"),
    **dict.fromkeys(["VICKY", "VICKI", "VIC"], "VICTORIA"),
    **dict.fromkeys(["BECKY", "BECCA", "BECKIE"], "REBECCA"),
    **dict.fromkeys(["MANDY"], "AMANDA"),
    **dict.fromkeys(["JACKIE", "JACKY"], "JACQUELINE"),
    **dict.fromkeys(["DOT", "DOTTY", "DOTTIE", "DOLLY"], "DOROTHY"),
    **dict.fromkeys(["MOLLY", "POLLY", "MAMIE"], "MARY"),
    **dict.fromkeys(["PENNY"], "PENELOPE"),
    **dict.fromkeys(["JUDY"], "JUDITH"),
    **dict.fromkeys(["GILL", "JILL"], "GILLIAN"),
    **dict.fromkeys(["NELL", "NELLIE", "NELLY"], "HELEN"),
    **dict.fromkeys(["SANDIE"], "SANDRA"),
    **dict.fromkeys(["JO", "JOJO"], "JOANNE"),
}

_NOT_LETTERS = re.compile(r"[^A-Z-]")


def _key(name: str) -> str:
    return _NOT_LETTERS.sub("", name.upper())


@lru_cache(maxsize=1)
def canonical_map() -> dict[str, str]:
    """Nickname -> canonical forename, for every name whose canonical form differs from it."""
    formals_of: dict[str, set[str]] = defaultdict(set)
    nickname_count: dict[str, int] = defaultdict(int)
    for formal, relationship, nickname in nicknames.name_triplets():
        if relationship == "has_nickname":
            formal, nickname = _key(formal), _key(nickname)
            if formal and nickname and formal != nickname:
                formals_of[nickname].add(formal)
                nickname_count[formal] += 1
    rank = {name: i for i, name in enumerate(BRITISH_FORMAL)}

    def roots(name: str) -> set[str]:
        """The formal names a nickname leads to, following nickname-of-nickname chains."""
        found: set[str] = set()
        seen = {name}
        todo = list(formals_of[name])
        while todo:
            formal = todo.pop()
            if formal in seen:
                continue
            seen.add(formal)
            if formal in rank or not formals_of.get(formal):
                found.add(formal)
            else:
                todo.extend(formals_of[formal])
        return found or set(formals_of[name])

    result: dict[str, str] = {}
    for name in formals_of:
        if name in rank:
            continue
        candidates = roots(name)
        best = min(candidates, key=lambda f: (rank.get(f, len(rank)), -nickname_count[f], f))
        result[name] = best
    result.update(BRITISH_OVERRIDES)
    return {k: v for k, v in result.items() if k != v}


def canonical_forename(name: str) -> str:
    """The canonical form of one cleaned forename (for tests and notebooks)."""
    return canonical_map().get(name, name)


def register_nicknames(con: duckdb.DuckDBPyConnection) -> None:
    """Load the map into the temporary table ``std_nickname_canonical(name, canonical)``."""
    names = sorted(canonical_map())
    rows = pa.table({"name": names, "canonical": [canonical_map()[n] for n in names]})
    con.register("_std_nickname_rows", rows)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT name, canonical FROM _std_nickname_rows")
    finally:
        con.unregister("_std_nickname_rows")
