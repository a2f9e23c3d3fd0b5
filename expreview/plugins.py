"""Third-party rules, registered through the `expreview.rules` entry-point group.

A plugin module defines rules with `expreview.rule.rule` (importing it registers them). Plugin
rules run in every stage they name, after the profile's own rules; select/ignore apply to them."""
from __future__ import annotations

import os
import sys

from expreview.rule import REGISTRY

GROUP = "expreview.rules"
PLUGIN_CODES: set[str] = set()
PROBLEMS: list[str] = []
_loaded = False


def _may_declare_plugins() -> bool:
    """Whether some distribution on sys.path may declare the group: a scan of the entry_points.txt
    files that holds the group's name, or a path entry that is not a plain directory (a zip, an
    egg), which only importlib.metadata can read. importlib.metadata itself costs about 15 ms to
    import and ask (it parses every distribution's metadata); most installations have no plugin."""
    for entry in sys.path:
        path = entry or os.curdir
        if not os.path.isdir(path):
            if os.path.exists(path):
                return True
            continue
        if path.endswith(".egg"):
            return True
        try:
            names = os.listdir(path)
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(path, name, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                    if GROUP in f.read():
                        return True
            except OSError:
                continue
    return False


def load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    if not _may_declare_plugins():
        return
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        before = set(REGISTRY)
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the review
            PROBLEMS.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
            continue
        PLUGIN_CODES.update(set(REGISTRY) - before)
