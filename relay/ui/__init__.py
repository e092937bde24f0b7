"""The web page at ``/ui/``: server-rendered HTML (Jinja2, autoescaped) and a little
vanilla JavaScript that polls the JSON API; no build step."""
