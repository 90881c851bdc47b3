from django.urls import path

from . import groups, urls_io, views
from .configuration import urls as configuration_urls
from .qa import urls as qa_urls

app_name = "customers"

# Archive pages (list, detail, sections, wizard, batch). Export routes live in urls_io; the
# workbook import flow is billing's (billing/workbook/urls.py, mounted by opcms/urls.py).
urlpatterns = [
    path("", views.customer_list, name="customer-list"),
    path("batch/", views.customer_batch, name="customer-batch"),
    path("filters/save/", views.saved_filter_create, name="savedfilter-create"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete, name="savedfilter-delete"),
    path("new/", views.customer_create, name="customer-create"),
    path("new/draft/", views.customer_draft_save, name="customer-draft-save"),
    path("new/duplicates/", views.customer_duplicates_check, name="customer-duplicates"),
    path("grade-thresholds/", views.grade_thresholds_edit, name="grade-thresholds"),
    path("groups/", groups.group_list, name="group-list"),
    path("groups/<int:pk>/", groups.group_detail, name="group-detail"),
    path("groups/<int:pk>/members/", groups.group_members_edit, name="group-members"),
    path("<int:pk>/", views.customer_detail, name="customer-detail"),
    path("<int:pk>/basic/", views.customer_basic, name="customer-basic"),
    path("<int:pk>/edit/", views.customer_edit, name="customer-edit"),
    path("<int:pk>/cooperation/", views.customer_cooperation, name="customer-cooperation"),
    path("<int:pk>/profile/<slug:section>/", views.customer_profile, name="customer-profile"),
    path("<int:pk>/status/", views.customer_status, name="customer-status"),
    path("<int:pk>/grade/", views.customer_grade, name="customer-grade"),
    path("<int:pk>/delete/", views.customer_delete, name="customer-delete"),
    path("<int:pk>/tags/", views.customer_tag_add, name="customer-tag-add"),
    path(
        "<int:pk>/tags/<int:tag_pk>/remove/", views.customer_tag_remove, name="customer-tag-remove"
    ),
    path("<int:pk>/sections/<slug:section>/", views.section_list, name="customer-section"),
    path(
        "<int:pk>/sections/<slug:section>/new/",
        views.section_item_form,
        name="customer-section-new",
    ),
    path(
        "<int:pk>/sections/<slug:section>/<int:item_pk>/edit/",
        views.section_item_form,
        name="customer-section-edit",
    ),
    path(
        "<int:pk>/sections/<slug:section>/<int:item_pk>/delete/",
        views.section_item_delete,
        name="customer-section-delete",
    ),
    *urls_io.urlpatterns,
    *qa_urls.urlpatterns,
    *configuration_urls.urlpatterns,
]
