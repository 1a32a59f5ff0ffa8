"""Notifications: an outbox table written in the same transaction as the act, delivered later by
``cardadmin outbox send`` (SMTP when configured, else printed)."""
