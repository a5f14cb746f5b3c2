from core.api.routers import Router

from . import views

router = Router(trailing_slash=True)
router.include_root_view = False
router.register("insurance/policies", views.PolicyViewSet, basename="insurance-policy")
router.register("insurance/claims", views.ClaimViewSet, basename="insurance-claim")
router.register("audits", views.AuditViewSet, basename="audit")
router.register("subsidies/grants", views.GrantViewSet, basename="grant")
router.register("subsidies/premiums", views.PremiumViewSet, basename="premium")
router.register("subsidies/other", views.OtherSubsidyViewSet, basename="other-subsidy")
urlpatterns = router.urls
