from django.urls import path

from . import views
from .loans import views as loan_views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_form, name="create"),
    path("reviews/", views.my_reviews, name="my_reviews"),
    path("queue/", views.reviewer_queue, name="queue"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_form, name="edit"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/do/<str:action>/", views.project_action, name="action"),
    path("<int:pk>/loans/", loan_views.loan_create, name="loan_create"),
    path("loans/<int:pk>/<str:action>/", loan_views.loan_action, name="loan_action"),
]
