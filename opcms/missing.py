"""The one vocabulary of "missing" cell texts in the company's workbooks (pure: no Django).

The workbook marks an absent value many ways: empty, blanks, `#N/A` (a failed
VLOOKUP), dashes, `null`. Some columns add their own: a person column holds `0`
or `无` when nobody is assigned, a code column `0`, a price column `无`. Every
reader (customer import, workbook prices in billing/pricing.py) decides with
these sets, compared lower-cased and trimmed.
"""

from __future__ import annotations

MISSING: frozenset[str] = frozenset(
    {
        "",
        "#n/a",
        "#n/a n/a",
        "n/a",
        "#na",
        "—",
        "——",
        "-",
        "--",
        "－",
        "#value!",
        "#ref!",
        "null",
        "none",
    }
)
PERSON_MISSING: frozenset[str] = MISSING | {"0", "无"}
CODE_MISSING: frozenset[str] = MISSING | {"0"}
PRICE_MISSING: frozenset[str] = MISSING | {"无"}


def is_missing(text: str, vocabulary: frozenset[str] = MISSING) -> bool:
    """True when `text` means "no value" in the given column vocabulary."""
    return text.strip().lower() in vocabulary
