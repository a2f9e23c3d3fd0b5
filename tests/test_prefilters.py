"""Cheap searches that let a rule skip a file must never skip one the full search would flag."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from expreview.checks.ph.leftovers import _SHORTCUT, _SHORTCUT_ANCHOR, _SHORTCUT_ANCHOR_ANY_CASE, _shortcuts


@settings(max_examples=300, deadline=None)
@given(st.from_regex(_SHORTCUT, fullmatch=True), st.text(max_size=20), st.text(max_size=20))
def test_every_shortcut_phrase_contains_the_anchor(phrase, before, after):
    text = before + phrase + after
    assert _SHORTCUT_ANCHOR_ANY_CASE.search(text)
    if len(text.lower()) == len(text):
        assert _SHORTCUT_ANCHOR.search(text.lower())
    assert list(_shortcuts(text)), text  # and the rule's own scan still finds it
