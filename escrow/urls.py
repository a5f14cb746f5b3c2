from django.urls import path

from . import views

app_name = "escrow"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("operations/<int:pk>/", views.operation_review, name="operation_review"),
    path("operations/<int:pk>/reject/", views.operation_reject_view, name="operation_reject"),
    path("operations/<int:pk>/confirm/", views.operation_confirm_view, name="operation_confirm"),
    path("operations/<int:pk>/redispatch/", views.operation_redispatch_view, name="operation_redispatch"),
    path("reconciliation/upload/", views.statement_upload, name="statement_upload"),
    path("reconciliation/<int:pk>/", views.statement_detail, name="statement"),
    path("pool/", views.pool, name="pool"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account_statement, name="account_statement"),
]
