"""What the sync packs' setup page reads live from the two systems (``taxes.py``)."""
