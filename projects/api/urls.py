from django.urls import include, path

from core.api.routers import Router

from .attachments import AttachmentDownloadView, ProjectAttachmentsView
from .views import ProjectActionView, ProjectViewSet

router = Router(trailing_slash=True)
router.register("projects", ProjectViewSet, basename="project")

urlpatterns = [
    *router.urls,
    path("projects/<int:pk>/attachments/", ProjectAttachmentsView.as_view(), name="project-attachments"),
    path("attachments/<int:pk>/download/", AttachmentDownloadView.as_view(), name="attachment-download"),
    path("", include("projects.loans.urls")),
    # last: `projects/{id}/{action}/` would otherwise take the paths above
    path("projects/<int:pk>/<str:action_name>/", ProjectActionView.as_view(), name="project-action"),
]
