from django.contrib import admin
from django.urls import include, path

from billing.operations.views import healthz
from reports import views as report_views

admin.site.site_header = "OP_CMS 管理后台"
admin.site.site_title = "OP_CMS"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", report_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    # The workbook import is billing's flow (customers and price plans) under customers' path.
    path("customers/import/", include("billing.workbook.urls")),
    path("customers/", include("customers.urls")),
    path("billing/", include("billing.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns += [path("api/", include("opcms.api_urls"))]
