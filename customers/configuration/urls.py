"""Routes of the archive's settings pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.settings_index, name="settings"),
    path("settings/fields/", views.field_visibility, name="field-visibility"),
    path("settings/<slug:kind>/", views.setting_list, name="setting-list"),
    path("settings/<slug:kind>/<int:item_pk>/", views.setting_list, name="setting-edit"),
    path("settings/<slug:kind>/<int:item_pk>/delete/", views.setting_delete, name="setting-delete"),
]
