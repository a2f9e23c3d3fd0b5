"""facts.values.calls_named: a file's calls by the callee's last name, including names an import
binds to it under another name."""
from __future__ import annotations

from expreview.facts.values import calls_named
from expreview.sources.pyfile import PythonSource


def test_calls_are_found_by_last_name_and_through_import_aliases():
    source = PythonSource("a.py", "from torch.utils.data import DataLoader as DL\nimport torch\n"
                                  "a = DL(ds, batch_size=2)\nb = torch.utils.data.DataLoader(ds)\n"
                                  "c = template.format(q=1)\n")
    assert [c.name for c in calls_named(source, "DataLoader")] == ["DL", "torch.utils.data.DataLoader"]
    assert [c.name for c in calls_named(source, "format")] == ["template.format"]
    assert calls_named(source, "load_dataset") == []
