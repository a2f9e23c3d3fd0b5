"""The Bundle's parsed files: one parse per file, shared by every rule that asks."""
from expreview.bundle import Bundle


def test_parsed_is_the_python_file_only_when_it_parses():
    bundle = Bundle(files={"src/a.py": "x = 1\n", "src/b.py": "def f(:\n", "config/c.yaml": "a: 1\n"})
    assert bundle.parsed("src/a.py") is bundle.python("src/a.py") is not None
    assert bundle.python("src/b.py") is not None and bundle.parsed("src/b.py") is None  # PY001 reports it
    assert bundle.parsed("src/missing.py") is None
