"""The config watcher: polling stat + SHA-256, debounced, rename-safe."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from relay.routing.watch import ConfigWatcher

INTERVAL = 0.02


class Loaded:
    """Stands in for the services: the loaded sha, updated by each reload."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha = hashlib.sha256(path.read_bytes()).hexdigest()
        self.reloads = 0

    async def reload(self) -> None:
        self.reloads += 1
        self.sha = hashlib.sha256(self.path.read_bytes()).hexdigest()


async def _watching(path: Path) -> tuple[ConfigWatcher, Loaded]:
    loaded = Loaded(path)
    watcher = ConfigWatcher(
        str(path), current_sha256=lambda: loaded.sha, on_change=loaded.reload, interval=INTERVAL
    )
    watcher.start()
    await asyncio.sleep(INTERVAL * 2)
    return watcher, loaded


async def _settle() -> None:
    await asyncio.sleep(INTERVAL * 8)


def _replace_by_rename(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def test_an_edit_by_rename_triggers_one_reload(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text("a: 1\n")
    watcher, loaded = await _watching(path)
    try:
        _replace_by_rename(path, "a: 2\n")
        await _settle()
        assert loaded.reloads == 1
    finally:
        await watcher.stop()


async def test_touch_without_a_content_change_does_not_reload(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text("a: 1\n")
    watcher, loaded = await _watching(path)
    try:
        os.utime(path, ns=(1, 1))
        path.write_text("a: 1\n")
        await _settle()
        assert loaded.reloads == 0
    finally:
        await watcher.stop()


async def test_a_burst_of_writes_is_one_reload(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text("a: 0\n")
    watcher, loaded = await _watching(path)
    try:
        for i in range(1, 6):
            path.write_text(f"a: {i}\n" + "#" * i)
            await asyncio.sleep(INTERVAL / 4)
        await _settle()
        assert loaded.reloads == 1
        assert loaded.sha == hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        await watcher.stop()


async def test_a_removed_file_is_reloaded_when_it_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text("a: 1\n")
    watcher, loaded = await _watching(path)
    try:
        path.unlink()
        await _settle()
        assert loaded.reloads == 0
        path.write_text("a: 3\n")
        await _settle()
        assert loaded.reloads == 1
    finally:
        await watcher.stop()


async def test_the_same_refused_content_is_not_retried(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_text("a: 1\n")
    attempts = 0

    async def refuse() -> None:  # a reload that fails: the loaded sha stays
        nonlocal attempts
        attempts += 1

    watcher = ConfigWatcher(
        str(path), current_sha256=lambda: "old", on_change=refuse, interval=INTERVAL
    )
    watcher.start()
    try:
        await asyncio.sleep(INTERVAL * 2)
        path.write_text("broken")
        await _settle()
        os.utime(path, ns=(5, 5))
        await _settle()
        assert attempts == 1
    finally:
        await watcher.stop()
