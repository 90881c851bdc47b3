"""The one missing-value vocabulary, as the customer import and the workbook prices use it."""

from __future__ import annotations

import pytest

from billing.pricing import parse_workbook_prices
from customers.importers import cell_text, split_people
from opcms.missing import CODE_MISSING, MISSING, PERSON_MISSING, PRICE_MISSING, is_missing


@pytest.mark.parametrize(
    ("text", "plain", "person", "code", "price"),
    [
        ("", True, True, True, True),
        ("   ", True, True, True, True),
        ("#N/A", True, True, True, True),
        ("#n/a", True, True, True, True),
        ("#N/A N/A", True, True, True, True),
        ("N/A", True, True, True, True),
        ("—", True, True, True, True),
        ("-", True, True, True, True),
        ("--", True, True, True, True),
        ("null", True, True, True, True),
        ("0", False, True, True, False),
        ("无", False, True, False, True),
        ("张三", False, False, False, False),
        ("8", False, False, False, False),
    ],
)
def test_vocabulary_per_column_kind(text, plain, person, code, price):
    assert is_missing(text) is plain
    assert is_missing(text, PERSON_MISSING) is person
    assert is_missing(text, CODE_MISSING) is code
    assert is_missing(text, PRICE_MISSING) is price


def test_every_column_vocabulary_extends_the_one_base():
    assert MISSING <= PERSON_MISSING and MISSING <= CODE_MISSING and MISSING <= PRICE_MISSING


@pytest.mark.parametrize("text", ["#N/A", "—", "-", "", "  ", "N/A"])
def test_customer_import_and_workbook_prices_agree_on_missing(text):
    assert cell_text(text) == ""
    assert parse_workbook_prices(text, text, text) is None


@pytest.mark.parametrize("text", ["0", "无", "#N/A", "—"])
def test_person_column_missing_values_name_nobody(text):
    assert split_people(text) == []
    assert cell_text(text, PERSON_MISSING) == ""
