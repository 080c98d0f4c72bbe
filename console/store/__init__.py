"""The backend store: SQLite event log, sessions, members, tokens, and the HTTP API."""
