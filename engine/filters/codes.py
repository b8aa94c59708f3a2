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


_TEXT_LABELS = {
    "equal": "equal to",
    "notequal": "not equal to",
    "contain": "contains",
    "notcontain": "does not contain",
    "startwith": "starts with",
    "notstartwith": "does not start with",
    "endwith": "ends with",
    "notendwith": "does not end with",
    "pattern": "matches pattern",
    "notpattern": "does not match pattern",
}


def _comparison_labels(family: str, greater: str, less: str, of: str = "") -> dict[str, str]:
    """The six comparisons of a family; ``of`` names what is compared (an array's length)."""
    labels = {
        "equal": "equal to",
        "notequal": "not equal to",
        "greater": greater,
        "less": less,
        "greaterorequal": f"{greater} or equal to",
        "lessorequal": f"{less} or equal to",
    }
    return {f"{family}:{code}": f"{of}{label}" for code, label in labels.items()}


OPERATOR_LABELS: dict[str, str] = {
    "exist": "exists",
    "notexist": "does not exist",
    **{f"text:{code}": label for code, label in _TEXT_LABELS.items()},
    **{f"text:{code}:ci": f"{label} (case insensitive)" for code, label in _TEXT_LABELS.items()},
    **_comparison_labels("number", "greater than", "less than"),
    **_comparison_labels("date", "later than", "earlier than"),
    **_comparison_labels("time", "later than", "earlier than"),
    **_comparison_labels("semver", "greater than", "less than"),
    "array:contain": "contains",
    "array:contain:ci": "contains (case insensitive)",
    "array:notcontain": "does not contain",
    "array:notcontain:ci": "does not contain (case insensitive)",
    **_comparison_labels("array", "greater than", "less than", of="length "),
    "boolean:equal": "equal to",
    "boolean:notequal": "not equal to",
}
"""Each operator as Make's filter editor names it (lower case, to sit inside a sentence)."""


def _interleaved_ci(codes: tuple[str, ...]) -> tuple[str, ...]:
    """``text:x``, ``text:x:ci`` … in the order Make's filter editor lists them."""
    return tuple(code for op in codes for code in (f"text:{op}", f"text:{op}:ci"))


OPERATOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Basic operators", ("exist", "notexist")),
    ("Text operators", _interleaved_ci(_TEXT)),
    *(
        (title, tuple(f"{family}:{op}" for op in _COMPARISONS))
        for title, family in (
            ("Numeric operators", "number"),
            ("Date operators", "date"),
            ("Time operators", "time"),
            ("Semver operators", "semver"),
        )
    ),
    (
        "Array operators",
        (
            "array:contain",
            "array:contain:ci",
            "array:notcontain",
            "array:notcontain:ci",
            *(f"array:{op}" for op in _COMPARISONS),
        ),
    ),
    ("Boolean operators", ("boolean:equal", "boolean:notequal")),
)
"""Every operator code once, grouped and ordered as Make's filter editor shows them; the editor
draws its operator picker from this table (``GET /api/operators``)."""

assert sorted(c for _, codes in OPERATOR_GROUPS for c in codes) == sorted(OPERATOR_CODES)
