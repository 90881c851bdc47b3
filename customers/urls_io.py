"""Routes of the customer import and export flows."""

urlpatterns: list = []
