"""Writes for customers. STAND-IN (issue 8): minimal customer_create/customer_update per the contract."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.roles import Role, has_role

from .models import Customer


def _assign(customer: Customer, data: dict[str, Any]) -> list:
    many = {}
    for field, value in data.items():
        if field == "ops_owners":
            many[field] = value
        else:
            setattr(customer, field, value)
    return list(many.items())


def _save(customer: Customer, many: list) -> Customer:
    try:
        customer.full_clean()
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    customer.save()
    for field, value in many:
        getattr(customer, field).set(value)
    return customer


@transaction.atomic
def customer_create(*, user: Any, data: dict[str, Any]) -> Customer:
    customer = Customer()
    many = _assign(customer, data)
    if has_role(user, Role.SALES) and not customer.sales_owner_id:
        customer.sales_owner = user
    return _save(customer, many)


@transaction.atomic
def customer_update(*, user: Any, customer: Customer, data: dict[str, Any]) -> Customer:
    many = _assign(customer, data)
    return _save(customer, many)
