"""Receiving webhooks: the ASGI app (the composition root, ``app.py``), the hook endpoint,
body reading, readiness."""
