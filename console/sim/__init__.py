"""Scenarios, demo data and the broadcast simulator (demo, rehearsal, load)."""
