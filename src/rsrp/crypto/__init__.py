"""rsrp.crypto."""
