"""Voice notes to incident updates, for any transport: see notes.py."""
