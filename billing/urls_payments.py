"""Routes of payments, allocations (核销), reversals and statements."""

urlpatterns: list = []
