"""Milestone routes: ``urlpatterns`` for the API (under /api/v1/), ``pages`` for the browser.

anxinbao/urls.py includes them as
``path("", include("projects.milestones.urls"))`` inside ``api_v1`` and
``path("", include((milestone_urls.pages, "milestones")))`` at the root.
"""
from django.urls import path

from . import views
from .api import MilestoneActionView, MilestoneDetailView

urlpatterns = [
    path("milestones/<int:pk>/", MilestoneDetailView.as_view(), name="api-milestone-detail"),
    path("milestones/<int:pk>/<str:action>/", MilestoneActionView.as_view(), name="api-milestone-action"),
]

pages = [
    path("milestones/project/<int:project_id>/", views.project_milestones, name="project"),
    path("milestones/project/<int:project_id>/<str:action>/", views.project_action, name="project-action"),
    path("milestones/<int:pk>/do/<str:action>/", views.milestone_action, name="action"),
    path("milestones/operations/<int:op_id>/confirm/", views.operation_confirm_view, name="operation-confirm"),
    path("milestones/attachments/<int:att_id>/", views.attachment_download, name="attachment"),
]
