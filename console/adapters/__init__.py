"""Live platforms -> store events (平台接入), no Qt.

Every adapter has the same three parts: a pure mapping from the platform's raw messages to
store events (``Mapper``), the platform's own transport (a stream, a webhook receiver or a
poller), and the shared way out: a capture file of the raw messages (``capture``) and the
store's ingest endpoint with retries and a health report (``sink``). ``ingest-file`` replays a
capture through the same mapping (``replay``).
"""
