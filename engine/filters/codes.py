"""Make's filter operator codes (``IML_FILTER_OPERATORS`` in make-forman-schema).

The blueprint model validates operator codes against this set; the filter evaluator keys its
operator table by the same codes, so the two can never disagree.
"""

from __future__ import annotations

_COMPARISONS = ("equal", "notequal", "greater", "less", "greaterorequal", "lessorequal")
_TEXT = (
    "equal",
    "notequal",
    "contain",
    "notcontain",
    "startwith",
    "notstartwith",
    "endwith",
    "notendwith",
    "pattern",
    "notpattern",
)

UNARY_OPERATORS: frozenset[str] = frozenset({"exist", "notexist"})

OPERATOR_CODES: frozenset[str] = frozenset(
    {
        *UNARY_OPERATORS,
        *(f"text:{op}" for op in _TEXT),
        *(f"text:{op}:ci" for op in _TEXT),
        *(
            f"{family}:{op}"
            for family in ("number", "date", "time", "semver")
            for op in _COMPARISONS
        ),
        "array:contain",
        "array:contain:ci",
        "array:notcontain",
        "array:notcontain:ci",
        *(f"array:{op}" for op in _COMPARISONS),
        "boolean:equal",
        "boolean:notequal",
    }
)
