"""rsrp.policy."""
