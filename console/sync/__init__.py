"""The console's IO: HTTP client, SSE follower with resume, local cache."""
