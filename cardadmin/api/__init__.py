"""The JSON API under /api/v1: bearer-token authentication, JSON errors, an OpenAPI document."""

from cardadmin.api import resources  # noqa: F401  (registers the routes)
from cardadmin.api.core import api_bp

__all__ = ["api_bp"]
