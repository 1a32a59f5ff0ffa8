"""Organisations, units, card desks, pilot sites, users, API tokens and login throttling."""
