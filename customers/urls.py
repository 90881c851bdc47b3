from . import urls_io

app_name = "customers"

# Archive pages (list, detail, sections, wizard, batch). Import/export routes live in urls_io.
urlpatterns = [
    *urls_io.urlpatterns,
]
