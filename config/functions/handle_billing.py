"""Example webhook handler following the Notte docs' convention: run(event_type, data)."""


def run(event_type: str, data: dict[str, object]) -> dict[str, object]:
    return {"status": "processed", "event": event_type}
