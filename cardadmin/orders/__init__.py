"""Card orders, cards, identity checks at hand-over, revocations and support cases (the RA workflow)."""
