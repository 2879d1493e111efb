"""rsrp.context."""
