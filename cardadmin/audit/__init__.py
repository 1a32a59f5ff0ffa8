"""The append-only, hash-chained audit log."""

from cardadmin.audit.service import VerifyResult, record, verify

__all__ = ["VerifyResult", "record", "verify"]
