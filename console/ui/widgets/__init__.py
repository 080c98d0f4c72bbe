"""Widgets of the live window."""
