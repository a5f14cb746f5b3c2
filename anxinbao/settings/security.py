"""Security headers: Content-Security-Policy (django-csp), Referrer-Policy, nosniff, Permissions-Policy, framing.

Every script and stylesheet is a file under /static/ (no inline <script>, no style attributes, no <style>
elements in pages); charts and QR codes are inline SVG, whose presentation attributes need no permission.
See docs/security.md.
"""
from csp.constants import NONE, SELF

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# The API documentation pages (Swagger UI and ReDoc, served from drf-spectacular-sidecar) set styles from script.
CSP_API_DOCS_STYLE_SRC = [SELF, "'unsafe-inline'"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Features no page uses, switched off for every page (core.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
                      "payment=(), usb=()")
