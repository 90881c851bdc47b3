"""Browser journey: log in as ops, see the navigation; a wrong password shows the Chinese error."""

import pytest

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_logs_in_and_sees_navigation(login_page):
    ops = UserFactory(role=Role.OPS, username="ops_b", full_name="钱多")

    page = login_page(ops)

    page.wait_for_selector("#main-nav")
    nav = page.inner_text("#main-nav")
    for label in ("客户", "账单", "收款", "报表", "管理"):
        assert label in nav
    assert "钱多" in page.inner_text("#current-user")


def test_wrong_password_shows_chinese_error(login_page):
    ops = UserFactory(role=Role.OPS, username="ops_c")

    page = login_page(ops, password="not-the-password")

    assert "用户名或密码错误" in page.inner_text("#login-error")
