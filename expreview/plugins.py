"""Third-party rules, registered through the `expreview.rules` entry-point group.

A plugin module defines rules with `expreview.rule.rule` (importing it registers them). Plugin
rules run in every stage they name, after the profile's own rules; select/ignore apply to them."""
from __future__ import annotations

from importlib.metadata import entry_points

from expreview.rule import REGISTRY

GROUP = "expreview.rules"
PLUGIN_CODES: set[str] = set()
PROBLEMS: list[str] = []
_loaded = False


def load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        before = set(REGISTRY)
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the review
            PROBLEMS.append(f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}")
            continue
        PLUGIN_CODES.update(set(REGISTRY) - before)
