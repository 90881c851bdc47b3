from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/create/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<int:pk>/update/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("customers/<int:pk>/contacts/", views.ContactListView.as_view(), name="contact-list"),
    path(
        "customers/<int:pk>/contacts/create/",
        views.ContactCreateView.as_view(),
        name="contact-create",
    ),
    path("customers/<int:pk>/projects/", views.ProjectListView.as_view(), name="project-list"),
    path(
        "customers/<int:pk>/projects/create/",
        views.ProjectCreateView.as_view(),
        name="project-create",
    ),
    path(
        "customers/<int:pk>/ad-accounts/", views.AdAccountListView.as_view(), name="adaccount-list"
    ),
    path(
        "customers/<int:pk>/ad-accounts/create/",
        views.AdAccountCreateView.as_view(),
        name="adaccount-create",
    ),
    path("customers/<int:pk>/profile/", views.CustomerProfileView.as_view(), name="profile"),
    path("contacts/<int:pk>/update/", views.ContactUpdateView.as_view(), name="contact-update"),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
]
