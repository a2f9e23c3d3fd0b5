"""The console entry point (`expreview`, `python -m expreview`): a process that is expreview's own."""
from __future__ import annotations

import gc


def main() -> None:
    # The process ends when its reviews do. Until then the cyclic collector would only traverse
    # the imported modules' and the parse trees' objects again and again (about 20 ms of a 0.3 s
    # start), so it is off from the first import; the CLI collects between inputs instead
    # (jobs.review_in_turn), and what the imports made is frozen out of those collections.
    gc.disable()
    from expreview.cli import run

    gc.freeze()
    run()
