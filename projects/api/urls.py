from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import ProjectActionView, ProjectViewSet

router = DefaultRouter(trailing_slash=True)
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = [
    *router.urls,
    path("projects/<int:pk>/<str:action_name>/", ProjectActionView.as_view(), name="project-action"),
]
