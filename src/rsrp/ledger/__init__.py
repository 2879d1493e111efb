"""rsrp.ledger."""
