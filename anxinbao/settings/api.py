"""Django REST framework and the OpenAPI schema (served with offline assets)."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that a request without credentials gets 401 with WWW-Authenticate.
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON of bounded depth (core.api.parsers), forms and uploads.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_FORMAT": "%Y-%m-%d",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Anxinbao API",
    "DESCRIPTION": "科创安心宝 milestone escrow — HTTP API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a field named "state"; give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "ProjectStateEnum": "projects.choices.ProjectState",
        "MilestoneStateEnum": "projects.choices.MilestoneState",
        "OperationStateEnum": "escrow.choices.OperationState",
        "ComputationStateEnum": "subsidies.choices.ComputationState",
        "ReportStateEnum": "reports.choices.ReportState",
        "OrganizationKindEnum": "core.choices.OrgKind",
        "AccountKindEnum": "escrow.choices.AccountKind",
        "OperationKindEnum": "escrow.choices.OperationKind",
        "ReportKindEnum": "reports.choices.ReportKind",
        "PolicyTypeEnum": "subsidies.choices.PolicyType",
        "LoanStateEnum": "projects.loans.models.LoanState",
        "AttachmentKindEnum": "projects.choices.AttachmentKind",
    },
}
