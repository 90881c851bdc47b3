"""Field-level visibility: which sensitive fields a user may see, the one policy for all outputs.

Pages, exports and the API all ask `hidden_fields(user)` (or `can_see`) and
leave a hidden field out entirely: no column, no key, no "***" placeholder
that would still reveal that a value exists.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import field_visibility_applies, role_of

from .models import HiddenField

Field = HiddenField.Field

# Sensitive field key → the model fields it covers, per model (label "app.Model").
COVERED: dict[str, dict[str, tuple[str, ...]]] = {
    Field.CONTACT_PHONE: {"customers.Contact": ("phone",)},
    Field.CONTACT_EMAIL: {"customers.Contact": ("email",)},
    Field.MONEY: {
        "customers.Renewal": ("amount",),
        "customers.AdAccount": ("monthly_spend",),
        "customers.BusinessProfile": ("overseas_sales", "overseas_sales_target"),
        "customers.WebsiteInfo": ("last_year_sales", "annual_sales_target"),
    },
}


def hidden_fields(user: Any) -> frozenset[str]:
    """The sensitive field keys hidden from `user` (cached on the user object per request)."""
    # No role (anonymous, schema generation) sees no customer at all: nothing to look up.
    if not field_visibility_applies(user) or role_of(user) is None:
        return frozenset()
    cached = getattr(user, "_opcms_hidden_fields", None)
    if cached is None:
        cached = frozenset(
            HiddenField.objects.filter(role=role_of(user)).values_list("field", flat=True)
        )
        try:
            user._opcms_hidden_fields = cached
        except AttributeError:  # pragma: no cover - AnonymousUser is immutable
            pass
    return cached


def can_see(user: Any, key: str) -> bool:
    return key not in hidden_fields(user)


def hidden_model_fields(user: Any, model: Any) -> set[str]:
    """The model field names of `model` that `user` must not see."""
    label = model._meta.label
    return {name for key in hidden_fields(user) for name in COVERED.get(key, {}).get(label, ())}


def visible(user: Any, model: Any, names: list[str]) -> list[str]:
    """`names` without the fields of `model` hidden from `user`, order kept."""
    hidden = hidden_model_fields(user, model)
    return [n for n in names if n not in hidden]
