"""HSA entries (issue 4): the desks' directory work on persons and units — validation, the change log for
billing, import/export (CSV, LDIF), LDAP sync, screens, API and CLI. A person entry IS a ``Person`` row and a
unit entry IS a ``Unit`` row; this package adds memberships, the cross-table HSA-ID registry and the change log."""
