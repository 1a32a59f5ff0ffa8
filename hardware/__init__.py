"""The card-reader side of cardadmin: APDUs, PC/SC, PIV and a simulated PIV card.

Nothing here imports flask or cardadmin; the app translates `hardware.errors` into its own errors.
"""
