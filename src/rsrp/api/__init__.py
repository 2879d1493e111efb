"""rsrp.api."""
