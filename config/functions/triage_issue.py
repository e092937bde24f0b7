"""Example function for `relay local-runner`: called with the route's variables."""


def run(repo: str, number: int, title: str = "") -> dict[str, object]:
    return {"triaged": f"{repo}#{number}", "title": title}
