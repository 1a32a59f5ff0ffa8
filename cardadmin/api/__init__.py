"""The JSON API under /api/v1: bearer-token authentication, JSON errors, an OpenAPI document."""

from cardadmin.api import resources  # noqa: F401  (registers the routes)
from cardadmin.api.core import api_bp
from cardadmin.desk import api as desk_api  # noqa: F401  (registers the desk agent's routes)
from cardadmin.hsa import api as hsa_api  # noqa: F401  (registers the HSA routes)
from cardadmin.orders import api as orders_api  # noqa: F401  (registers the order, card and support routes)
from cardadmin.timelog import api as timelog_api  # noqa: F401  (registers the time entry and timesheet routes)

__all__ = ["api_bp"]
