"""cardadmin: SITHS card production and administration at shared card desks."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from cardadmin import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def freeze_startup_objects() -> None:
    """For a serving process (wsgi.py, `cardadmin serve`): what is built by now (modules, mappers, routes,
    compiled code) lives as long as the process. Taken out of the cycle collector's sight, a full collection no
    longer walks these ~130 000 objects in the middle of a request: it took 60-80 ms on this machine and was the
    whole p95 of the desk page (Python's gc.freeze, made for long-running servers). Not for tests, which build
    many apps, nor for short CLI runs (`GC_FREEZE: False`), which should leave nothing unfinalised at exit."""
    gc.freeze()


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers. No database side effects."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(config_module.load(test_config))

    from cardadmin import handlers, navigation, security
    from cardadmin.accounts import admin_views, auth_views
    from cardadmin.api import api_bp
    from cardadmin.audit import views as audit_views
    from cardadmin.db import db
    from cardadmin.desk import views as desk_verify_views
    from cardadmin.evaluation import views as evaluation_views
    from cardadmin.hsa import transfer_views as _hsa_transfer  # noqa: F401  (adds the import/export routes)
    from cardadmin.hsa import views as hsa_views
    from cardadmin.orders import card_views, desk_views, support_views
    from cardadmin.orders import views as order_views
    from cardadmin.people import views as people_views
    from cardadmin.timelog import admin_views as timelog_admin_views
    from cardadmin.timelog import views as timelog_views

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    # Ids in URLs stop at what an INTEGER column holds: /x/99999999999999999999 is a 404, not an overflow.
    app.url_map.converters["int"] = BoundedIntConverter

    db.init_app(app)
    security.init_app(app)
    handlers.init_app(app)
    navigation.init_app(app)

    from cardadmin.identifiers import format_org_number, mask_personnummer
    from cardadmin.numfmt import sv_number
    from cardadmin.timefmt import local

    app.jinja_env.filters.update(localtime=local, org_number=format_org_number, masked_pnr=mask_personnummer,
                                 sv_number=sv_number)

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(order_views.bp)
    app.register_blueprint(desk_views.bp)
    app.register_blueprint(card_views.bp)
    app.register_blueprint(support_views.bp)
    app.register_blueprint(people_views.bp)
    app.register_blueprint(desk_verify_views.bp)
    app.register_blueprint(hsa_views.bp)
    app.register_blueprint(timelog_views.bp)
    app.register_blueprint(evaluation_views.bp)
    app.register_blueprint(timelog_admin_views.bp)
    app.register_blueprint(api_bp)
    security.csrf.exempt(api_bp)  # the API authenticates by bearer token only, never by cookie

    from cardadmin.cli import register_flask_commands

    register_flask_commands(app)
    if app.config.get("GC_FREEZE", True) and not app.testing:
        freeze_startup_objects()
    return app
