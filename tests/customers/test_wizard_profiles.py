"""Create wizard: step 2 carries the business profile and regions, step 3 the independent site."""

import pytest

from customers.models import Customer
from tests.factories import DictionaryItemFactory

from .test_wizard import STEP1, STEP2, STEP3, STEP4, STEP5, URL

pytestmark = pytest.mark.django_db


def test_wizard_saves_business_profile_site_and_regions(client, ops_user):
    east = DictionaryItemFactory(value="华东")
    client.force_login(ops_user)
    step2 = {
        **STEP2,
        "business_model": "brand",
        "overseas_sales": "3000000",
        "overseas_sales_ratio": "35",
        "has_operations_team": "on",
        "regions": [east.pk],
    }
    step3 = {
        **STEP3,
        "site_url": "shop.haofang.example.com",
        "platform": "shopify",
        "build_status": "live",
        "annual_sales_target": "5000000",
    }

    for data in (STEP1, step2, step3, STEP4):
        assert client.post(URL, data).status_code == 302
    client.post(URL, STEP5)

    customer = Customer.objects.get(company_id=880001)
    profile, site = customer.business_profile, customer.website_info
    assert (profile.business_model, str(profile.overseas_sales)) == ("brand", "3000000.00")
    assert profile.has_operations_team and not profile.has_tech_team
    assert (site.site_url, site.platform, site.build_status) == (
        "https://shop.haofang.example.com",
        "shopify",
        "live",
    )
    assert str(site.annual_sales_target) == "5000000.00"
    assert list(customer.regions.all()) == [east]
    assert customer.website == "https://haofang.example.com"  # step 3's own field still saved


def test_wizard_without_profile_fields_creates_no_empty_profiles(client, ops_user):
    client.force_login(ops_user)

    for data in (STEP1, STEP2, STEP3, STEP4, STEP5):
        client.post(URL, data)

    customer = Customer.objects.get(company_id=880001)
    assert not hasattr(customer, "business_profile") or customer.business_profile is None
