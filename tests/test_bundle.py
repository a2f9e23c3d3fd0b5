"""The Bundle's parsed files: one parse per file, shared by every rule that asks."""
from expreview.bundle import Bundle


def test_parsed_is_the_python_file_only_when_it_parses():
    bundle = Bundle(files={"src/a.py": "x = 1\n", "src/b.py": "def f(:\n", "config/c.yaml": "a: 1\n"})
    assert bundle.parsed("src/a.py") is bundle.python("src/a.py") is not None
    assert bundle.python("src/b.py") is not None and bundle.parsed("src/b.py") is None  # PY001 reports it
    assert bundle.parsed("src/missing.py") is None


def test_a_base_file_the_derivation_changed_is_read_through_its_ast_only():
    """DRV001 reads the base's definitions from its ast; no rule needs the base's CST or index,
    so a changed base file is never CST-parsed (a file the derivation left unchanged is shared)."""
    from expreview.engine import review_bundle

    base = Bundle(files={"src/train.py": "def train_epoch(model):\n    return 0\n\n\ntrain_epoch(None)\n",
                         "src/main.py": "print('same')\n"}, stage="base")
    derived = Bundle(files={"src/train.py": "def other(model):\n    return 1\n\n\nother(None)\n",
                            "src/main.py": "print('same')\n"}, stage="derived", base=base)
    report = review_bundle(derived)
    assert "DRV001" in {f.code for f in report.findings}
    changed, same = base.python("src/train.py"), base.python("src/main.py")
    assert changed is not None and same is not None
    assert changed.tree is not None and "_parsed" not in changed.__dict__ and "index" not in changed.__dict__
    assert same is derived.python("src/main.py")
