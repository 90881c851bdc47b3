"""Worked examples (DESIGN.md 2.1–2.3) and properties of the pure pricing engines. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import format_money, to_money
from billing.pricing import (
    AnnualContext,
    Band,
    PlanTerms,
    Shoot,
    UsageSummary,
    annual_instalment,
    contract_month,
    parse_workbook_prices,
    price_month,
    summarize,
)

BANDS = (Band(100, D("10")), Band(500, D("8")), Band(None, D("6")))


def per_shoot(**kw) -> PlanTerms:
    return PlanTerms(kind="per_shoot", **kw)


# --- money ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.005", "1.01"), ("1.004", "1.00"), ("2.675", "2.68"), (0.1, "0.10"), ("-1.005", "-1.01")],
)
def test_to_money_rounds_half_up(value, expected):
    assert to_money(value) == D(expected)


@pytest.mark.parametrize(
    ("value", "text"), [("1234.5", "¥1,234.50"), ("0", "¥0.00"), ("-12", "−¥12.00")]
)
def test_format_money(value, text):
    assert format_money(value) == text


# --- per-shoot -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "shoots", "total", "sentences"),
    [
        (
            per_shoot(single_price=D("8")),
            [Shoot(10, 1)],
            "80.00",
            ["单层 10 次：10×¥8.00 = ¥80.00"],
        ),
        (
            per_shoot(single_price=D("12.5"), multi_price=D("0")),
            [Shoot(2, 1), Shoot(1, 3)],
            "37.50",
            ["单层 2 次：2×¥12.50 = ¥25.00", "多层 1 次（多层价同单层）：1×¥12.50 = ¥12.50"],
        ),
        (
            per_shoot(single_price=D("8"), multi_price=None),
            [Shoot(1, 2)],
            "8.00",
            ["多层 1 次（多层价同单层）：1×¥8.00 = ¥8.00"],
        ),
        (
            per_shoot(single_price=D("8"), multi_price=D("50")),
            [Shoot(10, 1), Shoot(2, 3)],
            "180.00",
            ["单层 10 次：10×¥8.00 = ¥80.00", "多层 2 次：2×¥50.00 = ¥100.00"],
        ),
        (
            per_shoot(
                single_price=D("14"),
                multi_rule="incremental",
                multi_base=D("14"),
                multi_step=D("10"),
            ),
            [Shoot(1, 2), Shoot(1, 2), Shoot(1, 3)],
            "82.00",
            ["多层 3 次，共 7 层：3×¥14.00 + 4×¥10.00 = ¥82.00"],
        ),
        (
            per_shoot(
                single_price=D("8"), multi_rule="incremental", multi_base=D("6"), multi_step=D("6")
            ),
            [Shoot(10, 1), Shoot(2, 3)],
            "116.00",
            ["单层 10 次：10×¥8.00 = ¥80.00", "多层 2 次，共 6 层：2×¥6.00 + 4×¥6.00 = ¥36.00"],
        ),
        (
            per_shoot(per_area=True, area_price=D("1")),
            [Shoot(1, 1, D("120.5")), Shoot(1, 2, D("200"))],
            "320.50",
            [
                "单层按面积 120.5 m²：120.5×¥1.00 = ¥120.50",
                "多层按面积 200 m²：200×¥1.00 = ¥200.00",
            ],
        ),
        (
            per_shoot(per_area=True, area_price=D("1"), multi_price=D("50")),
            [Shoot(1, 1, D("88")), Shoot(2, 2)],
            "188.00",
            ["单层按面积 88 m²：88×¥1.00 = ¥88.00", "多层 2 次：2×¥50.00 = ¥100.00"],
        ),
        (per_shoot(single_price=D("8")), [], "0.00", []),
    ],
)
def test_per_shoot_worked_examples(terms, shoots, total, sentences):
    breakdown = price_month(terms, summarize(shoots))
    assert breakdown.total == D(total)
    assert [line.explanation for line in breakdown.lines] == sentences


def test_area_pricing_warns_about_shoots_without_area():
    breakdown = price_month(
        per_shoot(per_area=True, area_price=D("1")), summarize([Shoot(2, 1), Shoot(1, 1, D("50"))])
    )
    assert breakdown.total == D("50.00")
    assert breakdown.warnings == ("按面积计价，但有 2 次拍摄缺少面积，按 0 m² 计",)


def test_lines_are_rounded_half_up_before_summing():
    # 3 × 0.335 = 1.005 → 1.01 per line; the total is the sum of the rounded lines.
    terms = per_shoot(single_price=D("0.335"), multi_price=D("0.335"))
    breakdown = price_month(terms, summarize([Shoot(3, 1), Shoot(3, 2)]))
    assert [line.amount for line in breakdown.lines] == [D("1.01"), D("1.01")]
    assert breakdown.total == D("2.02")


# --- tiered --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "graduated", "volume"),
    [
        (0, "0.00", "0.00"),
        (1, "10.00", "10.00"),
        (100, "1000.00", "1000.00"),
        (101, "1008.00", "808.00"),
        (150, "1400.00", "1200.00"),
        (500, "4200.00", "4000.00"),
        (501, "4206.00", "3006.00"),
    ],
)
def test_tiered_band_edges(quantity, graduated, volume):
    usage = UsageSummary(single_shots=quantity)
    grad = price_month(PlanTerms(kind="tiered", tier_mode="graduated", bands_shared=BANDS), usage)
    vol = price_month(PlanTerms(kind="tiered", tier_mode="volume", bands_shared=BANDS), usage)
    assert grad.total == D(graduated)
    assert vol.total == D(volume)


def test_graduated_sentences_name_each_band():
    breakdown = price_month(
        PlanTerms(kind="tiered", bands_shared=BANDS), UsageSummary(single_shots=501)
    )
    assert [line.explanation for line in breakdown.lines] == [
        "第1档（1–100 次）：100×¥10.00 = ¥1,000.00",
        "第2档（101–500 次）：400×¥8.00 = ¥3,200.00",
        "第3档（501 次及以上）：1×¥6.00 = ¥6.00",
    ]


def test_volume_sentence():
    breakdown = price_month(
        PlanTerms(kind="tiered", tier_mode="volume", bands_shared=BANDS),
        UsageSummary(single_shots=150),
    )
    assert [line.explanation for line in breakdown.lines] == [
        "共 150 次，整体适用第2档（101–500 次）：150×¥8.00 = ¥1,200.00"
    ]


def test_tiered_counted_in_floors_with_separate_bands():
    terms = PlanTerms(
        kind="tiered",
        tier_unit="floors",
        bands_single=(Band(None, D("8")),),
        bands_multi=(Band(5, D("10")), Band(None, D("7"))),
    )
    # 4 single-floor shoots; 3 multi-floor shoots of 7 floors in all.
    breakdown = price_month(terms, summarize([Shoot(4, 1), Shoot(2, 2), Shoot(1, 3)]))
    assert [line.explanation for line in breakdown.lines] == [
        "单层 第1档（1 层及以上）：4×¥8.00 = ¥32.00",
        "多层 第1档（1–5 层）：5×¥10.00 = ¥50.00",
        "多层 第2档（6 层及以上）：2×¥7.00 = ¥14.00",
    ]
    assert breakdown.total == D("96.00")


def test_shared_bands_count_single_and_multi_together():
    terms = PlanTerms(kind="tiered", tier_mode="volume", bands_shared=BANDS)
    assert price_month(terms, UsageSummary(single_shots=60, multi_shots=41)).total == D("808.00")


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((), "阶梯不能为空"),
        ((Band(100, D("10")),), "最后一档必须不设上限"),
        ((Band(100, D("10")), Band(50, D("8")), Band(None, D("6"))), "第2档上限必须大于"),
        ((Band(None, D("10")), Band(None, D("8"))), "只有最后一档"),
        ((Band(None, D("-1")),), "单价不能为负"),
    ],
)
def test_invalid_bands_are_refused(bands, message):
    with pytest.raises(ValueError, match=message):
        price_month(PlanTerms(kind="tiered", bands_shared=bands), UsageSummary(single_shots=1))


# --- annual package ------------------------------------------------------------------


def annual(**kw) -> PlanTerms:
    return PlanTerms(kind="annual", annual_fee=D("12000"), **kw)


@pytest.mark.parametrize(
    ("terms", "ctx", "shots", "total", "sentences"),
    [
        (
            annual(),
            AnnualContext(month_index=1),
            30,
            "12000.00",
            ["年费 ¥12,000.00（合同年度首月一次性收取）", "包年不限量，本月拍摄 30 次，不另收费"],
        ),
        (
            annual(),
            AnnualContext(month_index=2),
            30,
            "0.00",
            ["包年不限量，本月拍摄 30 次，不另收费"],
        ),
        (
            annual(fee_schedule="monthly"),
            AnnualContext(month_index=3),
            0,
            "1000.00",
            ["年费 ¥12,000.00 按月分期，第 3/12 期：¥1,000.00"],
        ),
        (
            annual(annual_quota=1000, overage_price=D("9")),
            AnnualContext(month_index=5, shots_before=990),
            25,
            "135.00",
            [
                "包年限量内 10 次（年度已用 1,015/1,000），不另收费",
                "超出年度限量 1,000 次的 15 次：15×¥9.00 = ¥135.00",
            ],
        ),
        (
            annual(annual_quota=1000, overage_price=D("9")),
            AnnualContext(month_index=6, shots_before=1015),
            2,
            "18.00",
            ["超出年度限量 1,000 次的 2 次：2×¥9.00 = ¥18.00"],
        ),
    ],
)
def test_annual_package_worked_examples(terms, ctx, shots, total, sentences):
    breakdown = price_month(terms, UsageSummary(single_shots=shots), ctx)
    assert breakdown.total == D(total)
    assert [line.explanation for line in breakdown.lines] == sentences


def test_monthly_instalments_sum_to_the_fee():
    fee = D("10000")
    instalments = [annual_instalment(fee, m) for m in range(1, 13)]
    assert instalments[0] == D("833.33")
    assert instalments[11] == D("833.37")
    assert sum(instalments) == fee


@pytest.mark.parametrize(
    ("start", "period", "year_start", "index"),
    [
        (date(2025, 3, 15), date(2025, 3, 1), date(2025, 3, 1), 1),
        (date(2025, 3, 1), date(2026, 2, 1), date(2025, 3, 1), 12),
        (date(2025, 3, 1), date(2026, 3, 1), date(2026, 3, 1), 1),
    ],
)
def test_contract_month(start, period, year_start, index):
    assert contract_month(start, period) == (year_start, index)


# --- minimum and discount ------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "shots", "total", "last"),
    [
        (
            {"minimum_charge": D("500")},
            10,
            "500.00",
            "月最低消费 ¥500.00，本月 ¥80.00，补足 ¥420.00",
        ),
        ({"minimum_charge": D("50")}, 10, "80.00", "单层 10 次：10×¥8.00 = ¥80.00"),
        (
            {"discount_kind": "percent", "discount_value": D("10"), "discount_reason": "老客户"},
            10,
            "72.00",
            "折扣 10%（老客户）：¥80.00×10% = −¥8.00",
        ),
        (
            {"discount_kind": "amount", "discount_value": D("100"), "discount_reason": "补偿"},
            10,
            "0.00",
            "减免（补偿）：−¥80.00",
        ),
        (
            {"discount_kind": "amount", "discount_value": D("30"), "minimum_charge": D("60")},
            10,
            "60.00",
            "月最低消费 ¥60.00，本月 ¥50.00，补足 ¥10.00",
        ),
        ({"minimum_charge": D("200")}, 0, "200.00", "月最低消费 ¥200.00，本月 ¥0.00，补足 ¥200.00"),
    ],
)
def test_minimum_and_discount(extra, shots, total, last):
    breakdown = price_month(
        per_shoot(single_price=D("8"), **extra), UsageSummary(single_shots=shots)
    )
    assert breakdown.total == D(total)
    assert breakdown.lines[-1].explanation == last


# --- workbook price texts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (("定价结算", 8, 0), {"single_price": D("8.00"), "multi_price": None}),
        (("定价结算", 12.5, None), {"single_price": D("12.50")}),
        (("定价结算", "12", 15), {"single_price": D("12.00"), "multi_price": D("15.00")}),
        (("定价结算", 0, 0), {"single_price": D("0.00")}),
        (("定价结算", "1m²1元", 0), {"per_area": True, "area_price": D("1.00")}),
        (("定价结算", "1m²1元", 50), {"per_area": True, "multi_price": D("50.00")}),
        (
            ("定价结算", 8, "14+（F-1）*10"),
            {"multi_rule": "incremental", "multi_base": D("14.00"), "multi_step": D("10.00")},
        ),
        (
            ("定价结算", 10, "6+(F-1)*6"),
            {"multi_rule": "incremental", "multi_base": D("6.00"), "multi_step": D("6.00")},
        ),
        (("包年套餐", 12.5, 0), {"kind": "annual", "annual_limited": False}),
        (("包年限量套餐", 0, 0), {"kind": "annual", "annual_limited": True}),
    ],
)
def test_parse_workbook_prices(raw, expected):
    parsed = parse_workbook_prices(*raw)
    for key, value in expected.items():
        assert getattr(parsed, key) == value


@pytest.mark.parametrize(
    "raw", [("#N/A", "#N/A", "#N/A"), (None, None, None), ("0", "", ""), ("待确认", 0, 0)]
)
def test_parse_workbook_prices_without_a_price_is_none(raw):
    assert parse_workbook_prices(*raw) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (("定价结算", "八元", 0), "单层定价“八元”无法识别"),
        (("定价结算", 8, "14+F*10"), "多层定价公式“14\\+F\\*10”无法识别"),
        (("定价结算", 8, "abc"), "多层定价“abc”无法识别"),
        (("定价结算", -3, 0), "不是有效的价格"),
        (("月结", 8, 0), "结算方式“月结”无法识别"),
        (("待确认", 8, 0), "待确认"),
        (("#N/A", 8, 0), "结算方式为空"),
        (("定价结算", "#N/A", 0), "单层定价为空"),
    ],
)
def test_parse_workbook_prices_refuses_to_guess(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_workbook_prices(*raw)


# --- properties ----------------------------------------------------------------------

money_st = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
shoot_st = st.builds(
    Shoot,
    shots=st.integers(min_value=0, max_value=50),
    floors=st.integers(min_value=1, max_value=6),
    area=st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=1)),
)


@st.composite
def bands_st(draw, falling: bool = False):
    n = draw(st.integers(min_value=1, max_value=4))
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=2000), min_size=n, max_size=n)))
    prices = draw(st.lists(money_st, min_size=n + 1, max_size=n + 1))
    if falling:
        prices = sorted(prices, reverse=True)
    return tuple(Band(b, p) for b, p in zip([*bounds, None], prices, strict=True))


@st.composite
def terms_st(draw):
    kind = draw(st.sampled_from(["per_shoot", "tiered", "annual"]))
    common = {
        "minimum_charge": draw(st.one_of(st.none(), money_st)),
        "discount_kind": draw(st.sampled_from(["", "percent", "amount"])),
        "discount_value": draw(
            st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
        ),
    }
    if kind == "per_shoot":
        return PlanTerms(
            kind=kind,
            single_price=draw(money_st),
            multi_rule=draw(st.sampled_from(["unified", "incremental"])),
            multi_price=draw(st.one_of(st.none(), money_st)),
            multi_base=draw(money_st),
            multi_step=draw(money_st),
            per_area=draw(st.booleans()),
            area_price=draw(money_st),
            **common,
        )
    if kind == "tiered":
        return PlanTerms(
            kind=kind,
            tier_mode=draw(st.sampled_from(["graduated", "volume"])),
            tier_unit=draw(st.sampled_from(["shoots", "floors"])),
            bands_shared=draw(bands_st()),
            **common,
        )
    return PlanTerms(
        kind=kind,
        annual_fee=draw(money_st),
        annual_quota=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=300))),
        overage_price=draw(money_st),
        fee_schedule=draw(st.sampled_from(["upfront", "monthly"])),
        **common,
    )


ctx_st = st.builds(
    AnnualContext,
    month_index=st.integers(min_value=1, max_value=12),
    shots_before=st.integers(min_value=0, max_value=500),
)


@given(terms=terms_st(), shoots=st.lists(shoot_st, max_size=20), ctx=ctx_st)
def test_amounts_never_negative(terms, shoots, ctx):
    breakdown = price_month(terms, summarize(shoots), ctx)
    assert breakdown.total >= 0
    assert all(line.amount >= 0 for line in breakdown.lines if line.line_type != "discount")


@given(bands=bands_st(), quantity=st.integers(min_value=0, max_value=3000))
def test_graduated_total_never_decreases(bands, quantity):
    terms = PlanTerms(kind="tiered", tier_mode="graduated", bands_shared=bands)
    now = price_month(terms, UsageSummary(single_shots=quantity)).total
    more = price_month(terms, UsageSummary(single_shots=quantity + 1)).total
    assert more >= now


@given(bands=bands_st(falling=True), quantity=st.integers(min_value=0, max_value=3000))
def test_volume_never_exceeds_graduated_when_prices_fall(bands, quantity):
    usage = UsageSummary(single_shots=quantity)
    grad = price_month(PlanTerms(kind="tiered", tier_mode="graduated", bands_shared=bands), usage)
    vol = price_month(PlanTerms(kind="tiered", tier_mode="volume", bands_shared=bands), usage)
    assert vol.total <= grad.total


@given(
    terms=terms_st(),
    shoots=st.lists(shoot_st, max_size=20),
    ctx=ctx_st,
    seed=st.randoms(use_true_random=False),
)
def test_total_independent_of_order_and_grouping(terms, shoots, ctx, seed):
    # Regroup: split every record into single shoots (area shared out evenly is not exact,
    # so keep area on the first piece), then shuffle.
    pieces = []
    for shoot in shoots:
        for i in range(shoot.shots):
            pieces.append(Shoot(1, shoot.floors, shoot.area if i == 0 else D(0)))
        if shoot.shots == 0 and shoot.area is not None:
            pieces.append(shoot)
    seed.shuffle(pieces)
    original = price_month(terms, summarize(shoots), ctx)
    regrouped = price_month(terms, summarize(pieces), ctx)
    assert regrouped.total == original.total
