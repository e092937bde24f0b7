"""The delivery-log views shared by the CLI, the JSON API and the web page: what to read
from the store, filters, view models, redaction of everything shown."""
