"""rsrp.cli."""
