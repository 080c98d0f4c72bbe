"""Pure domain code: no Qt, no IO, no clock reads.

Everything here is deterministic; the store, the console and the replay all fold the same
events through the same functions, so they agree.
"""
