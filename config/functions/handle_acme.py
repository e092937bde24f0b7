"""Example handler for the `acme-all` route (relay's default variables: event_type and data)."""


def run(event_type: str, data: object) -> dict[str, object]:
    return {"status": "processed", "event": event_type}
