"""User settings: `[tool.expreview]` in the reviewed repository's pyproject.toml (found from the
checked path upward) or `--config FILE`, merged with the command line. Each value remembers where
it came from, for `expreview config`.

    [tool.expreview]
    stage = "base"
    select = ["DEP", "PY"]          # codes or family prefixes; "ALL" (the default) is every rule
    ignore = ["FIG003"]
    extend-select = ["FIG003"]      # added to select (or to the command line's --select)
    extend-ignore = ["CFG005"]      # added to ignore; a command-line --ignore adds to both
    [tool.expreview.severity]
    FIG003 = "error"
    [tool.expreview.options]
    orchestration = "gpu-queue"

A derived experiment can name its base and run variations, so that its directory says everything
a review needs (`base` is relative to the file that sets it):

    [tool.expreview]
    stage = "derived"
    base = "../base"
    run_variations = ["baseline", "proposed"]
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from expreview.engine import all_codes
from expreview.findings import SEVERITIES
from expreview.profiles import load_profile, stages

KEYS = ("stage", "select", "ignore", "extend-select", "extend-ignore", "severity", "options", "base",
        "run_variations", "prompt_version", "distributions")
ALL = "ALL"  # in select: every rule (the same as no select)


from expreview.errors import SettingsError  # noqa: E402  (re-exported)


@dataclass
class Setting:
    value: Any
    origin: str


@dataclass
class Settings:
    stage: Setting = field(default_factory=lambda: Setting("auto", "default"))
    select: Setting = field(default_factory=lambda: Setting([], "default"))
    ignore: Setting = field(default_factory=lambda: Setting([], "default"))
    extend_select: Setting = field(default_factory=lambda: Setting([], "default"))
    extend_ignore: Setting = field(default_factory=lambda: Setting([], "default"))
    severity: dict[str, Setting] = field(default_factory=dict)
    options: dict[str, Setting] = field(default_factory=dict)
    base: Setting = field(default_factory=lambda: Setting(None, "default"))
    run_variations: Setting = field(default_factory=lambda: Setting(None, "default"))
    prompt_version: Setting = field(default_factory=lambda: Setting(None, "default"))
    config_file: Optional[str] = None

    def option_values(self) -> dict[str, Any]:
        return {k: s.value for k, s in self.options.items()}

    def severity_values(self) -> dict[str, str]:
        return {k: s.value for k, s in self.severity.items()}

    def selected(self) -> list[str]:
        """The effective select list ([] = every rule): select plus extend-select."""
        return effective_select(self.select.value, self.extend_select.value)

    def ignored(self) -> list[str]:
        return list(dict.fromkeys(self.ignore.value + self.extend_ignore.value))


def effective_select(select: list[str], extend: list[str]) -> list[str]:
    """`select` with `extend` added; [] means every rule (so does ALL, and extending "every rule"
    changes nothing)."""
    if not select or ALL in select:
        return []
    return list(dict.fromkeys(select + extend))


def known_codes() -> set[str]:
    return all_codes()


def known_options() -> set[str]:
    names: set[str] = {"distributions"}
    for stage in stages():
        names |= set(load_profile(stage).options)
    return names


def check_codes(codes, where: str) -> list[str]:
    """`codes` upper-cased, each a known rule code, a prefix of one (a family: `PH`), or ALL;
    SettingsError names the first that is none of these."""
    known = known_codes()
    if isinstance(codes, str) or not isinstance(codes, (list, tuple)):
        raise SettingsError(f"{where}: must be a list of rule codes, not {type(codes).__name__} {codes!r}")
    out = []
    for code in codes:
        if not isinstance(code, str) or not code.strip() or \
                code.strip().upper() != ALL and not any(k.startswith(code.strip().upper()) for k in known):
            raise SettingsError(f"{where}: unknown rule code or prefix {code!r} (see `expreview rules`)")
        out.append(code.strip().upper())
    return out


def option_specs(name: str) -> list:
    """The specs of option `name` in every stage that has it."""
    return [spec for stage in stages() for spec in load_profile(stage).option_specs if spec.name == name]


def _check_distributions(mapping: Any, where: str) -> None:
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and k and (isinstance(v, str) and v or isinstance(v, list) and v
                                          and all(isinstance(d, str) and d for d in v))
            for k, v in mapping.items()):
        raise SettingsError(f"{where}: distributions must be a table of import name = \"distribution\" "
                            "(or a list of distributions), e.g. distributions = {mylib = \"my-lib-dist\"}")


def check_option(name: Any, value: Any, where: str) -> None:
    """SettingsError unless some stage has option `name` and allows `value` for it (`distributions`,
    DEP002's import-name map, is set apart from the profiles and checked for its shape)."""
    if name == "distributions":
        _check_distributions(value, where)
        return
    specs = option_specs(name) if isinstance(name, str) else []
    if not specs:
        raise SettingsError(f"{where}: unknown option {name!r} (known: {', '.join(sorted(known_options()))})")
    allowed = [spec.allowed for spec in specs]
    if all(a is not None for a in allowed) and not any(value in a for a in allowed if a is not None):
        values = sorted({str(v) for a in allowed if a is not None for v in a})
        raise SettingsError(f"{where}: option {name}={value!r} is not one of {', '.join(values)}")


def find_config(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.expreview] table, from `start` upward."""
    here = start.resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue  # a broken pyproject is the reviewed code's problem, reported as DEP001
            if isinstance(data.get("tool"), dict) and "expreview" in data["tool"]:
                return candidate
    return None


def read_config(path: Path, explicit: bool) -> tuple[dict, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the configuration ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: the configuration is not valid TOML ({str(exc).splitlines()[0]})") from None
    table = data.get("tool", {}).get("expreview") if isinstance(data.get("tool"), dict) else None
    if table is None:
        if not explicit:
            return {}, str(path)
        table = data  # a standalone expreview.toml holds the keys at top level
        origin = str(path)
    else:
        origin = f"{path} [tool.expreview]"
    if not isinstance(table, dict):
        raise SettingsError(f"{origin}: must be a table")
    return table, origin


def apply_config(settings: Settings, table: dict, origin: str, directory: Path = Path(".")) -> None:
    for key in table:
        if key not in KEYS:
            raise SettingsError(f"{origin}: unknown key {key!r} (known: {', '.join(KEYS)})")
    if "stage" in table:
        if table["stage"] not in ("auto",) + stages():
            raise SettingsError(f"{origin}: stage {table['stage']!r} is not one of auto, {', '.join(stages())}")
        settings.stage = Setting(table["stage"], origin)
    for key in ("select", "ignore", "extend-select", "extend-ignore"):
        if key in table:
            values = table[key]
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list):
                raise SettingsError(f"{origin}: {key} must be a list of codes")
            setattr(settings, key.replace("-", "_"), Setting(check_codes(values, f"{origin}: {key}"), origin))
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise SettingsError(f"{origin}: severity must be a table of CODE = \"error\" | \"warning\"")
    for code, level in severity.items():
        check_codes([code], f"{origin}: severity")
        if level not in SEVERITIES:
            raise SettingsError(f"{origin}: severity of {code} must be \"error\" or \"warning\", not {level!r}")
        settings.severity[code.upper()] = Setting(level, origin)
    if "base" in table:
        if not isinstance(table["base"], str):
            raise SettingsError(f"{origin}: base must be a path")
        settings.base = Setting(str(directory / table["base"]), origin)
    if "run_variations" in table:
        variations = table["run_variations"]
        if not isinstance(variations, list) or not all(isinstance(v, str) for v in variations):
            raise SettingsError(f"{origin}: run_variations must be a list of run ids")
        settings.run_variations = Setting(list(variations), origin)
    if "distributions" in table:  # import name -> the distribution(s) providing it: DEP002/DEP004's option
        check_option("distributions", table["distributions"], origin)
        settings.options["distributions"] = Setting(dict(table["distributions"]), origin)
    if "prompt_version" in table:
        if not isinstance(table["prompt_version"], str) or not table["prompt_version"]:
            raise SettingsError(f"{origin}: prompt_version must be a version group name, e.g. \"B6\" or \"H12\"")
        # which groups exist depends on the stage, known only once the input is read: the review checks it
        settings.prompt_version = Setting(table["prompt_version"], origin)
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise SettingsError(f"{origin}: options must be a table")
    for name, value in options.items():
        check_option(name, value, f"{origin}: options")
        settings.options[name] = Setting(value, origin)


def resolve(paths: list[str], config: Optional[str]) -> Settings:
    """Settings from --config, or from the pyproject.toml found above the first checked path."""
    settings = Settings()
    found: Optional[Path]
    if config:
        found = Path(config)
        table, origin = read_config(found, explicit=True)
    else:
        first = next((p for p in paths if p != "-"), None)
        found = find_config(Path(first)) if first else None
        if found is None:
            return settings
        table, origin = read_config(found, explicit=False)
    settings.config_file = origin
    apply_config(settings, table, origin, found.parent)
    return settings
