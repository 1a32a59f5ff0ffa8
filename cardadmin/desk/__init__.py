"""The card desk: reading and verifying cards at the desk PC (CLI commands in cli.py)."""
