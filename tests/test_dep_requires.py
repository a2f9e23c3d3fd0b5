"""DEP: the shipped requirement map (expreview/checks/dep/requires.json), its generator, the import ->
distribution map, and how DEP001/DEP002 weigh what uv really does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from expreview.bundle import Bundle
from expreview.checks.dep import make_requires
from expreview.checks.dep.distributions import REQUIRES_FILE, candidates, installs, provides, shipped
from expreview.engine import review_bundle
from expreview.rule import REGISTRY
from expreview.settings import Settings, SettingsError, apply_config

SHIPPED = REPO / "expreview" / "checks" / "dep" / REQUIRES_FILE
TOML = '[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = [{}]\n'


def toml(*deps: str) -> str:
    return TOML.format(", ".join(f'"{d}"' for d in deps))


def dep(code: str, files: dict[str, str], severities=None, **options):
    bundle = Bundle(files=files, stage="base", options=options)
    report = review_bundle(bundle, rules=[REGISTRY[code]], severities=severities)
    return [(f.line, f.severity, f.consequence, f.message) for f in report.findings if f.code == code]


# -- the shipped map ----------------------------------------------------------------------

def test_the_shipped_map_is_well_formed_and_names_its_sources():
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert set(data) == {"about", "environment", "roots", "versions", "missing", "requires", "imports"}
    assert "make_requires" in data["about"]
    env = data["environment"]
    assert (env["sys_platform"], env["platform_system"], env["implementation_name"], env["python_version"]) == \
        ("linux", "Linux", "cpython", "3.11")
    roots = data["roots"]
    assert roots == sorted({make_requires.canonicalize_name(n) for n in make_requires.DISTRIBUTIONS})
    for root in roots:  # every distribution the map starts from was installed, at a recorded version
        assert isinstance(data["versions"].get(root), str) and data["versions"][root][0].isdigit(), root
        assert root in data["requires"], root
    for node, requirements in data["requires"].items():
        name = node.partition("[")[0]
        assert name in data["versions"], node  # only what was read has requirements
        assert requirements == sorted(set(requirements)) and all(isinstance(r, str) for r in requirements), node
        for req in requirements:
            assert req.partition("[")[0] in data["versions"] or req.partition("[")[0] in data["missing"], (node, req)
    assert not set(data["missing"]) & set(data["versions"])
    for name, dists in data["imports"].items():
        assert all(part.isidentifier() for part in name.split(".")) and dists, name
    assert SHIPPED.read_text(encoding="utf-8") == make_requires.render(data)  # as the generator writes it


def test_the_shipped_map_is_package_data():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"expreview.checks.dep" = ["{REQUIRES_FILE}"]' in pyproject
    assert shipped()["versions"]["torch"]


def test_what_the_common_packages_install():
    assert installs("hydra-core")["pyyaml"] == ("omegaconf", "pyyaml")
    assert "tqdm" in installs("transformers")
    assert "numpy" in installs("matplotlib")
    assert "numpy" not in installs("torch")  # torch does not require numpy
    assert "accelerate" in installs("transformers", ("torch",)) and "accelerate" not in installs("transformers")


@pytest.mark.parametrize("module,first", [
    ("yaml", "PyYAML"), ("sklearn.metrics", "scikit-learn"), ("PIL.Image", "pillow"), ("cv2", "opencv-python"),
    ("google.cloud.storage", "google-cloud-storage"), ("google.cloud.pubsub_v1", "google-cloud-pubsub"),
    ("google.protobuf.message", "protobuf"), ("skopt", "scikit-optimize"), ("Bio.Seq", "biopython"),
    ("zmq", "pyzmq"), ("OpenSSL.crypto", "pyOpenSSL"), ("pynvml", "nvidia-ml-py"), ("multipart", "python-multipart"),
    ("pkg_resources", "setuptools"), ("tensorboard", "tensorboard"), ("torch_optimizer", "torch-optimizer"),
    ("hydra", "hydra-core"), ("torch.utils.data", "torch"),
])
def test_import_names_map_to_distributions(module, first):
    assert candidates(module)[0] == first


def test_an_unknown_import_has_no_distribution_and_none_is_made_up():
    assert candidates("frobnicate_lab") == () and candidates("google.cloud.nosuch") == ()
    found = dep("DEP002", {"pyproject.toml": toml("torch"), "src/train.py": "import torch\nimport frobnicate_lab\n"})
    assert len(found) == 1 and "does not know which distribution provides it" in found[0][3]
    assert '"frobnicate_lab"' not in found[0][3] and found[0][1] == "error"


# -- the generator, on distributions made up for the test ---------------------------------

def fake_dist(site: Path, name: str, version: str, requires=(), extras=(), files=()) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Provides-Extra: {e}" for e in extras] + [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    record = list(files) + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(f if "," in f else f + ",," for f in record) + "\n")


def test_the_generator_reads_requirements_markers_extras_and_modules(tmp_path):
    site = tmp_path / "site"
    fake_dist(site, "Top-Lib", "1.0", requires=[
        "leaf>=1", "winonly; sys_platform == 'win32'", "old; python_version < '3.8'", "helper[fast]",
        "plot; extra == 'viz'", "pytest; extra == 'test'"], extras=["viz", "test"],
        files=["top_lib/__init__.py", "top_lib/core.py", "top_lib/_ext.cpython-311-x86_64-linux-gnu.so",
               "top_lib.libs/libfoo.so.1", "../../bin/top"])
    fake_dist(site, "leaf", "2.0", files=["leaf.py"])
    fake_dist(site, "helper", "3.0", requires=["speedy; extra == 'fast'"], extras=["fast"],
              files=["ns/helper/__init__.py", "scripts/tool.py"])
    fake_dist(site, "ns-other", "0.1", files=["ns/other/__init__.py", "ns/other/x.py"])
    dists = make_requires.installed([str(site)])
    graph, missing = make_requires.requirement_graph(dists, ["top-lib"])
    assert graph["top-lib"] == ["helper", "helper[fast]", "leaf"]  # markers for Linux/CPython 3.11, no extra
    assert graph["helper[fast]"] == ["helper", "speedy"] and graph["top-lib[viz]"] == ["plot", "top-lib"]
    assert "top-lib[test]" not in graph  # a development extra
    assert missing == ["plot", "speedy"]
    names = make_requires.import_names(dists, ["top-lib", "leaf", "helper", "ns-other"])
    assert names == {"leaf": ["leaf"], "ns.helper": ["helper"], "ns.other": ["ns-other"], "top_lib": ["Top-Lib"]}


def test_the_generator_refuses_a_missing_distribution(tmp_path, monkeypatch):
    monkeypatch.setattr(make_requires, "DISTRIBUTIONS", ("surely-not-installed-dist",))
    with pytest.raises(SystemExit, match="not installed: surely-not-installed-dist"):
        make_requires.build([str(tmp_path)])


# -- DEP002: installed anyway, or not at all ----------------------------------------------

def test_an_import_a_declared_dependency_installs_is_a_warning_that_names_it():
    files = {"pyproject.toml": toml("hydra-core>=1.3"), "src/train.py": "import hydra\nimport yaml\n"}
    found = dep("DEP002", files)
    assert [f[:3] for f in found] == [(2, "warning", "criterion")]
    assert "installed only because `hydra-core` requires it (through omegaconf)" in found[0][3]
    assert 'declare it: add "PyYAML"' in found[0][3]
    # the shortest chain names the dependency: transformers requires PyYAML itself
    files = {"pyproject.toml": toml("hydra-core", "transformers"),
             "src/train.py": "import hydra\nimport transformers\nimport yaml\nimport tqdm\n"}
    found = dep("DEP002", files)
    assert [f[:3] for f in found] == [(3, "warning", "criterion"), (4, "warning", "criterion")]
    assert all("only because `transformers` requires it;" in f[3] for f in found)


def test_with_the_dependency_criterion_it_blocks():
    files = {"pyproject.toml": toml("hydra-core"), "src/train.py": "import hydra\nimport yaml\n"}
    assert [f[1:3] for f in dep("DEP002", files, dependency_criterion=True)] == [("error", "criterion")]


def test_an_import_nothing_installs_is_an_error_whatever_the_prompt():
    files = {"pyproject.toml": toml("torch"), "src/train.py": "import torch\nimport numpy as np\n"}
    for asked in (False, True):
        found = dep("DEP002", files, dependency_criterion=asked)
        assert [f[1:3] for f in found] == [("error", "crash")] and "nothing declared installs it" in found[0][3]


def test_a_declared_dependency_of_unknown_requirements_makes_it_a_warning():
    files = {"pyproject.toml": toml("torch", "mystery-dist"), "src/train.py": "import torch\nimport numpy\n"}
    found = dep("DEP002", files)
    assert [f[1:3] for f in found] == [("warning", "crash")] and "`mystery-dist` may" in found[0][3]


def test_a_configured_severity_still_wins():
    files = {"pyproject.toml": toml("hydra-core"), "src/train.py": "import hydra\nimport yaml\n"}
    assert [f[1] for f in dep("DEP002", files, severities={"DEP002": "error"})] == ["error"]
    files = {"pyproject.toml": toml("torch"), "src/train.py": "import torch\nimport numpy\n"}
    assert [f[1] for f in dep("DEP002", files, severities={"DEP": "warning"})] == ["warning"]


# -- the user's map: [tool.expreview] distributions ----------------------------------------

def test_the_distributions_setting_is_validated_and_carried_as_an_option():
    settings = Settings()
    apply_config(settings, {"distributions": {"mylib": "my-lib-dist", "other": ["a-dist", "b-dist"]}}, "cfg")
    assert settings.option_values()["distributions"] == {"mylib": "my-lib-dist", "other": ["a-dist", "b-dist"]}
    for bad in ("my-lib-dist", {"mylib": 3}, {"mylib": []}, {"mylib": [""]}):
        with pytest.raises(SettingsError, match="distributions must be a table"):
            apply_config(Settings(), {"distributions": bad}, "cfg")


def test_the_users_map_declares_and_suggests():
    extra = {"mylib": ("my-lib-dist",)}
    assert provides("my-lib-dist", "mylib.sub", extra) and candidates("mylib", extra) == ("my-lib-dist",)
    files = {"pyproject.toml": toml("torch"), "src/train.py": "import torch\nimport mylib\n"}
    found = dep("DEP002", files, distributions={"mylib": "my-lib-dist"})
    assert len(found) == 1 and 'add "my-lib-dist"' in found[0][3]


def test_the_distributions_key_reaches_the_rule_from_pyproject(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("import torch\nimport mylib\n")
    (tmp_path / "pyproject.toml").write_text(toml("torch", "my-lib-dist")
                                             + '\n[tool.expreview]\ndistributions = {mylib = "my-lib-dist"}\n')
    proc = run_cli("check", str(tmp_path), "--stage", "base", "--select", "DEP002,DEP004", "--format", "json")
    assert json.loads(proc.stdout)["findings"] == [], proc.stdout + proc.stderr
    (tmp_path / "pyproject.toml").write_text(toml("torch", "my-lib-dist") + '\n[tool.expreview]\ndistributions = 3\n')
    proc = run_cli("check", str(tmp_path), "--stage", "base")
    assert proc.returncode == 2 and "distributions must be a table" in proc.stderr


# -- DEP001: what uv reads, and what it does not ------------------------------------------

AUTHORS = '[project]\nname = "exp"\nversion = "0.1.0"\nauthors = ["Jane Doe"]\ndependencies = ["torch"]\n'
BACKEND = '\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'


def test_string_authors_is_a_warning_unless_the_project_is_built():
    assert [f[1:3] for f in dep("DEP001", {"pyproject.toml": AUTHORS})] == [("warning", "advice")]
    assert [f[1:3] for f in dep("DEP001", {"pyproject.toml": AUTHORS + BACKEND})] == [("error", "crash")]
    packaged = AUTHORS + "\n[tool.uv]\npackage = true\n"
    assert [f[1:3] for f in dep("DEP001", {"pyproject.toml": packaged})] == [("error", "crash")]


def test_a_problem_behind_string_authors_is_still_reported():
    text = AUTHORS.replace('dependencies = ["torch"]', 'optional-dependencies = "none"\ndependencies = ["torch"]')
    assert [(f[0], f[1]) for f in dep("DEP001", {"pyproject.toml": text})] == [(4, "warning"), (5, "error")]


def test_poetry_only_dependencies_say_what_uv_run_does():
    text = '[project]\nname = "exp"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.10"\ntorch = "^2.1"\n'
    found = dep("DEP001", {"pyproject.toml": text})
    assert [f[:2] for f in found] == [(5, "error")]
    assert "`uv run` starts, installs nothing, and the first third-party import fails" in found[0][3]
    assert '"torch>=2.1,<3"' in found[0][3]
    # uv builds such a project (to learn its dependencies), so string authors break it there
    assert [f[1] for f in dep("DEP001", {"pyproject.toml": text.replace('version = "0.1.0"\n',
                                                                         'version = "0.1.0"\nauthors = ["J"]\n')})] \
        == ["error", "error"]


def test_an_unused_distribution_listed_in_two_sections_is_reported_once():
    import expreview

    pyproject = ('[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = ["torch", "pandas"]\n\n'
                 '[tool.poetry.dependencies]\ntorch = "^2.1"\npandas = "^2.0"\n')
    report = expreview.check({"pyproject.toml": pyproject, "src/train.py": "import torch\n"}, stage="base",
                             select=["DEP004"])
    assert [(f.code, f.line) for f in report.findings] == [("DEP004", 4)]
