from django.urls import path

from core.api.routers import Router

from .views import ProjectActionView, ProjectViewSet

router = Router(trailing_slash=True)
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = [
    *router.urls,
    path("projects/<int:pk>/<str:action_name>/", ProjectActionView.as_view(), name="project-action"),
]
