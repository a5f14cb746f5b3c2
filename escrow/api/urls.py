from django.urls import path

from core.api.routers import Router

from .views import AccountViewSet, EntryViewSet, OperationViewSet, PoolHistoryView, PoolView, TopUpViewSet

router = Router(trailing_slash=True)
router.include_root_view = False
router.register("ledger/accounts", AccountViewSet, basename="ledger-account")
router.register("ledger/entries", EntryViewSet, basename="ledger-entry")
router.register("operations", OperationViewSet, basename="operation")
router.register("pool/topups", TopUpViewSet, basename="pool-topup")

urlpatterns = [
    path("pool/", PoolView.as_view(), name="pool"),
    path("pool/history/", PoolHistoryView.as_view(), name="pool-history"),
    *router.urls,
]
