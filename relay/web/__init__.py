"""What the HTTP surfaces share: reading bodies (``body``), and for the admin surfaces
(the JSON API under ``/api``, the page under ``/ui``, ``/metrics``) who may use them
(``auth``, ``session``), their body cap (``body_limit``), error answers (``errors``) and their
view of a running relay (``deps``). ``relay.admin`` and ``relay.ui`` import it, not each other;
``relay/http/app.py`` puts them together."""
