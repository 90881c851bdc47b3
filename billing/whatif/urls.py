from django.urls import path

from billing.whatif import views

urlpatterns = [
    path("whatif/", views.whatif, name="whatif"),
    path("whatif/export/", views.whatif_export, name="whatif-export"),
    path("whatif/run/", views.whatif_run, name="whatif-run"),
    path("whatif/apply/", views.whatif_apply_view, name="whatif-apply"),
    path("whatif/jobs/<int:pk>/", views.whatif_job, name="whatif-job"),
    path("whatif/jobs/<int:pk>/export/", views.whatif_job_export, name="whatif-job-export"),
]
