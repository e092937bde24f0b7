"""Developer tooling: forge deliveries as a provider's sender would (``relay send``).

Beside ``relay.runner`` (the local Functions API): both are for trying relay on one machine.
Each provider module describes its sending side (``SENDING``: signer, samples); this package
dispatches on it (``signing``, ``samples``) and sends (``sending``, ``send_cmd``). The receive
path (``relay.http``, the providers' verification) never imports it.
"""
