"""The lifecycle status machine and the grade suggestion: pure rules, no database."""

from __future__ import annotations

import re
from decimal import Decimal

from .models import Customer, LifecycleStatus

S = LifecycleStatus

# DESIGN 1.3: potential → negotiating → contracted → active ⇄ dormant,
# active → suspended → renewal → active, any → churned, churned → reactivated.
# A reactivated customer resumes normal use (active) or goes back to talks.
_TRANSITIONS: dict[str, set[str]] = {
    S.POTENTIAL: {S.NEGOTIATING},
    S.NEGOTIATING: {S.CONTRACTED},
    S.CONTRACTED: {S.ACTIVE},
    S.ACTIVE: {S.DORMANT, S.SUSPENDED},
    S.DORMANT: {S.ACTIVE},
    S.SUSPENDED: {S.RENEWAL},
    S.RENEWAL: {S.ACTIVE},
    S.CHURNED: {S.REACTIVATED},
    S.REACTIVATED: {S.ACTIVE, S.NEGOTIATING},
}


# The workbook's 合作状态 texts and the lifecycle status each means by default.
# Data migration 0003 seeds CooperationStatusMapping from this; admins edit the
# table afterwards, and the import and the cooperation form read the table.
DEFAULT_COOPERATION_MAPPING: dict[str, str] = {
    "正常使用": S.ACTIVE,
    "近一年未使用": S.DORMANT,
    "待确认": S.POTENTIAL,
    "待确认  @李伟光": S.POTENTIAL,
    "商务阶段": S.NEGOTIATING,
    "等待巧房": S.NEGOTIATING,
    "入贝": S.CHURNED,
    "双方案使用": S.ACTIVE,
    "切换如视": S.CHURNED,
    "切换123": S.CHURNED,
    "消耗余量": S.ACTIVE,
}


def cooperation_key(text: str) -> str:
    """`待确认  @李伟光` → `待确认`: the mention names who confirms, not the status."""
    return re.sub(r"\s*[@＠]\S*", "", text).strip()


def allowed_transitions(from_status: str) -> list[str]:
    """Statuses reachable from `from_status` in one step (churned is reachable from any other)."""
    targets = set(_TRANSITIONS.get(from_status, set()))
    if from_status != S.CHURNED:
        targets.add(S.CHURNED)
    return [s for s in S.values if s in targets]


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in allowed_transitions(from_status)


def grade_for_amount(
    amount: Decimal, *, s_min: Decimal, a_min: Decimal, b_min: Decimal, c_min: Decimal
) -> str:
    """The suggested grade for a customer's last-12-months billed amount.

    Billing computes the amount (customers never reads bills); thresholds are
    the admin-set minimums of `GradeThresholds`, inclusive.
    """
    for grade, minimum in (
        (Customer.Level.S, s_min),
        (Customer.Level.A, a_min),
        (Customer.Level.B, b_min),
        (Customer.Level.C, c_min),
    ):
        if amount >= minimum:
            return grade
    return Customer.Level.D
