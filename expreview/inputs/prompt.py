"""A bundle read from a logged reviewer prompt. Which stage a prompt is for, and what its
instructions set, come from the stage profiles (rules/<stage>.yaml: `prompt`, `options`)."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

from expreview.bundle import Bundle
from expreview.inputs.bundle_json import files_from_json
from expreview.inputs.files import LoadError, add_file, bundle_of, safe_path
from expreview.profiles import Profile, PromptSpec, load_profile, profiles
from expreview.versions import detect

# Everything after this heading describes the research, not the code; its words set no option.
_INSTRUCTIONS_END = "# Current Research Method"
_RUN_VARIATION = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def is_prompt(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith("Input:") or "# Instructions" in text[:5000]


def _input_part(text: str) -> str:
    """The prompt without the LLM's answer: everything before the last `Output:` line."""
    matches = list(re.finditer(r"^Output:\s*$", text, re.M))
    return text[: matches[-1].start()] if matches else text


_NEXT_HEADER = re.compile(r"\n#{1,6} ")
# What an empty section holds when a pipeline logs an empty bundle.
_EMPTY_VALUES = ("", "null", "None", '""', "[]", "{}")


def _json_after(text: str, header: str) -> Optional[dict[str, Any]]:
    """The JSON object in the section under `header` (up to the next markdown header); {} when the
    section is there but empty (the pipeline sent an empty bundle); None without the section."""
    start = text.find(header)
    if start < 0:
        return None
    rest = text[start + len(header):]
    end = _NEXT_HEADER.search(rest)
    section = rest[:end.start()] if end else rest
    if section.strip().strip("`").strip() in _EMPTY_VALUES:
        return {}
    brace = section.find("{")
    if brace < 0:
        return {}
    try:
        value, _ = json.JSONDecoder().raw_decode(rest[brace:])
    except json.JSONDecodeError as exc:
        raise LoadError(f"the bundle under `{header}` is not valid JSON ({exc.msg})") from None
    return value if isinstance(value, dict) else {}


def prompt_stage(text: str) -> Optional[str]:
    """The stage whose section headers the prompt holds, else the one whose verdict key it names."""
    known = [p for p in profiles() if p.prompt is not None]
    found = {p.stage for p in known if p.prompt is not None and p.prompt.header in text}
    for p in known:
        base = p.prompt.base if p.prompt is not None else None
        if base is not None and base.header in text:
            # The base's own header then only quotes the base code.
            found.add(p.stage)
            found.discard(base.stage)
    if len(found) == 1:
        return found.pop()
    keys = {p.stage for p in profiles() if f"`{p.ready_key}`" in text or f'"{p.ready_key}"' in text}
    return keys.pop() if len(keys) == 1 else None


def prompt_options(text: str, stage: str) -> dict[str, Any]:
    instructions = text.split(_INSTRUCTIONS_END)[0]
    options: dict[str, Any] = {}
    for spec in load_profile(stage).option_specs:
        found, value = spec.prompt_value(instructions)
        if found:
            options[spec.name] = value
    files = re.search(r"EXACTLY these (\d+) required files.*?\n((?:\s*\*\s*`[^`]+`\s*\n)+)", instructions, re.S)
    if files:
        options["files"] = re.findall(r"`([^`]+)`", files.group(2))
    return options


def prompt_runs(text: str, section: str = "# Experiment Runs", until: str = "# Generated Experiment Code") -> dict[str, str]:
    """Run configs under `section`: `- Run ID: X … Config Content:` + fenced YAML."""
    parts = text.split(section, 1)
    if len(parts) < 2:
        return {}
    body = parts[1].split(until, 1)[0]
    runs = {}
    for match in re.finditer(r"- Run ID:\s*(\S+).*?Config Content:\s*\n\s*```ya?ml\n(.*?)\n\s*```", body, re.S):
        run_id, content = match.group(1), match.group(2)
        lines = content.split("\n")
        if lines:  # only the first line of each block is indented (by the prompt's list)
            lines[0] = lines[0].lstrip()
        runs[run_id] = "\n".join(lines).rstrip() + "\n"
    return runs


def _run_variations(text: str, prefix: str) -> Optional[list[str]]:
    line = re.search(rf"^{re.escape(prefix)}\s*(\[.*\])\s*$", text, re.M)
    if line is None:
        return None
    return [a or b for a, b in _RUN_VARIATION.findall(line.group(1))]


def _add_context(bundle: Bundle, text: str, where: str, profile: Profile, spec: PromptSpec) -> None:
    if spec.base is not None:
        base = _json_after(text, spec.base.header)
        if base:  # an empty base section is no base (the review then says one is needed)
            bundle.base = bundle_of(files_from_json(base, where + " (base)"), where, stage=spec.base.stage)
    if spec.run_variations is not None:
        variations = _run_variations(text, spec.run_variations)
        if variations is not None:
            bundle.run_variations = variations
    if spec.runs is not None:
        option = spec.runs.directory_option
        runs_dir = bundle.options.get(option, profile.options.get(option))
        for run_id, content in prompt_runs(text, spec.runs.section, spec.runs.until).items():
            add_file(bundle, safe_path(f"{runs_dir}/{run_id}.yaml"), content)


def load_prompt(text: str, where: str) -> Bundle:
    text = _input_part(text)
    stage = prompt_stage(text)
    if stage is None:
        raise LoadError(f"{where}: cannot tell the review stage from this prompt (no known section header or "
                        "verdict key); pass --stage")
    profile = load_profile(stage)
    spec = profile.prompt
    if spec is None:  # named only by its verdict key: the stage has no section to read
        raise LoadError(f"{where}: found no JSON bundle for stage {stage} (its profile names no prompt header)")
    data = _json_after(text, spec.header)
    if data is None:
        raise LoadError(f"{where}: found no JSON bundle under `{spec.header}`")
    bundle = bundle_of(files_from_json(data, where), where, stage=stage)
    bundle.notes.append(f"stage {stage} detected from the prompt's section headers")
    bundle.options.update(prompt_options(text, stage))
    detected = detect(profile.versions, text)
    if detected is not None:
        # The group is what this prompt asked: its options beat what the option cases guessed.
        bundle.prompt_version = detected.group
        bundle.notes.append(detected.how)
        group = profile.version(detected.group)
        if group is not None:
            bundle.options.update(group.options)
    _add_context(bundle, text, where, profile, spec)
    return bundle
