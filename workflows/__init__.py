"""The voucher application lifecycle: states, transitions and their guards (no Flask)."""
