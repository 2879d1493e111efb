"""rsrp.proof."""
