"""rsrp.keys."""
