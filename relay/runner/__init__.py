"""``relay local-runner``: a Notte-compatible Functions API on localhost (the app:
``relay.runner.app``; the command: ``relay.runner.cli``, whose parser imports neither the app
nor the server)."""
