from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("audit/", views.audit_list, name="audit-list"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/<str:which>/", views.job_file, name="job-file"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification-open"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification-preferences",
    ),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:pk>/", views.schedule_edit, name="schedule-edit"),
    path("webhooks/", views.webhook_list, name="webhook-list"),
    path("webhooks/deliveries/<int:pk>/replay/", views.webhook_replay_view, name="webhook-replay"),
]
