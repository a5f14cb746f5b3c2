"""API paths of the guarantee loans (R10), included by ``projects.api.urls`` before `projects/{id}/{action}/`."""
from django.urls import path

from .api import LoanActionView, LoanDetailView, ProjectLoansView

urlpatterns = [
    path("projects/<int:pk>/loans/", ProjectLoansView.as_view(), name="project-loans"),
    path("loans/<int:pk>/", LoanDetailView.as_view(), name="loan-detail"),
    path("loans/<int:pk>/<str:action>/", LoanActionView.as_view(), name="loan-action"),
]
