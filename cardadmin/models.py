"""Import every model module so Base.metadata knows all tables (Alembic, create_all, tests)."""


def import_all() -> None:
    from cardadmin.accounts import models as _accounts  # noqa: F401
    from cardadmin.audit import models as _audit  # noqa: F401
    from cardadmin.desk import models as _desk  # noqa: F401
    from cardadmin.evaluation import models as _evaluation  # noqa: F401
    from cardadmin.hsa import models as _hsa  # noqa: F401
    from cardadmin.orders import models as _orders  # noqa: F401
    from cardadmin.outbox import models as _outbox  # noqa: F401
    from cardadmin.people import models as _people  # noqa: F401
    from cardadmin.timelog import models as _timelog  # noqa: F401
