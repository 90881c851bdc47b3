from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/create/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<int:pk>/update/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("customers/<int:pk>/contacts/", views.ContactListView.as_view(), name="contact-list"),
]
