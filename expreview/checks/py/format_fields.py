"""PY010: a `str.format` template with a replacement field the call cannot fill.

`'{q} Answer as JSON: {"answer": "A"}'.format(q=…)` raises KeyError('"answer"'): str.format reads
every unescaped brace as a field, so JSON written into a prompt template needs `{{`/`}}`. The
template is judged where the format call's own keywords name it: the literal itself, a name
assigned one literal, or a literal of the bundle whose every identifier field that call fills
(a template table such as `PROMPTS = {"cot": "{q} …", "json": "{q} … {\"answer\": …}"}` formatted
by `template.format(q=…)`)."""
from __future__ import annotations

import string
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.values import calls_named, resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, StringLit, string_value
from expreview.sources.pyfile import PythonSource


def _fields(template: str) -> Optional[list[tuple[str, str]]]:
    """(argument name, field as written) of each replacement field; None when str.format would
    refuse the text itself (a lone `}`, an unclosed `{`): [("!", message)] then."""
    out = []
    try:
        for _, name, spec, conversion in string.Formatter().parse(template):
            if name is None:
                continue
            head = name.split(".", 1)[0].split("[", 1)[0]
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            out.append((head, written))
            if spec and "{" in spec:  # nested fields of the format spec are fields too
                nested = _fields(spec)
                if nested is None:
                    return None
                out.extend(nested)
    except ValueError:
        return None
    return out


def _keyword_call(call: Call) -> Optional[frozenset[str]]:
    """The keyword names of a `.format(...)` call that passes keywords only (no positionals, no
    `*args`/`**kwargs`: then the fields it fills are not known)."""
    if call.method != "format" or not isinstance(call.node.func, cst.Attribute):
        return None
    if any(a.keyword is None or a.star for a in call.node.args):
        return None
    names = frozenset(a.keyword.value for a in call.node.args if a.keyword is not None)
    return names or None


def _is_template(node: cst.CSTNode) -> bool:
    """A plain string literal (not an f-string, not bytes, not a docstring)."""
    if isinstance(node, cst.ConcatenatedString):
        return _is_template(node.left) and _is_template(node.right)
    return isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower()


def _unfilled(fields: list[tuple[str, str]], keywords: frozenset[str]) -> list[str]:
    return [written for head, written in fields if head not in keywords]


def _docstrings(source: PythonSource) -> set[int]:
    """ids of the literals that stand alone as statements (docstrings and bare strings)."""
    return {id(s.value) for s in source.index.statements if type(s) is cst.Expr}


def _message(path_line: str, keywords: frozenset[str], unfilled: list[str]) -> str:
    given = ", ".join(f"{k}=" for k in sorted(keywords))
    shown = ", ".join(f"`{u}`" for u in unfilled[:3]) + (f" and {len(unfilled) - 3} more" if len(unfilled) > 3 else "")
    first = unfilled[0]
    head = first[1:].split(".", 1)[0].split("[", 1)[0].split("!", 1)[0].split(":", 1)[0].split("}", 1)[0]
    error = "IndexError" if head == "" or head.isdigit() else f"KeyError({head!r})"
    how = (f"pass `{head}=` too, or write the braces doubled (`{{{first}}}`) if they are text" if head.isidentifier()
           else f"write the braces that are text doubled (`{{{first}}}`)")
    return (f"this template is formatted by `.format({given})` at {path_line}, which fills no field {shown}: "
            f"str.format raises {error} there; {how}")


@rule(
    code="PY010", name="format-field-unfilled", severity=ERROR, consequence=CRASH,
    criterion="Code is immediately executable: every `str.format` call can fill its template.",
    rationale="str.format reads every unescaped brace as a replacement field, so JSON written into a "
              "prompt template (`{\"answer\": \"A\"}`) or a field the call does not pass raises KeyError when "
              "the prompt is built. Judged only where the call passes keywords alone and the template is "
              "known: the literal it is called on, a name bound to one literal, or a literal of the bundle "
              "whose every named field the call fills. f-strings, `%`, `format_map`, `string.Template`, "
              "calls with `*args`/`**kwargs` and escaped braces stay silent.",
    invalid=[Example(files={"src/model.py": """
        PROMPTS = {
            "cot": "{q}\\nChoices:\\n{choices}\\nThink step by step.",
            "json": "{q}\\nChoices:\\n{choices}\\nRespond ONLY as JSON: {\\"answer\\":\\"A\\"}.",
        }


        def build_prompt(template, example):
            return template.format(q=example["question"], choices=example["choices"])
        """}, line=3, message='`{"answer":"A"}`'),
             Example(files={"src/train.py": """
                 TEMPLATE = 'Question: {question}\\nReturn {"label": 0 or 1} for {topic}'


                 def prompt(q):
                     return TEMPLATE.format(question=q)
                 """}, line=1, message="`{topic}`")],
    valid=[Example(files={"src/model.py": """
        import string

        PROMPTS = {
            "json": "{q}\\nRespond ONLY as JSON: {{\\"answer\\": \\"A\\"}}.",
            "percent": "%(q)s then {\\"answer\\": 1}",
            "template": "$q then {\\"answer\\": 1}",
        }
        DOC = 'Respond as {"answer": "A"} to {q}'


        def build(q, **extra):
            a = PROMPTS["json"].format(q=q)
            b = PROMPTS["percent"] % {"q": q}
            c = string.Template(PROMPTS["template"]).substitute(q=q)
            d = DOC.format(q=q, **extra)
            e = f'{q} as {{"answer": 1}}'
            return a, b, c, d, e
        """}),
           # a literal whose named fields no keyword-only format call fills is not that call's template
           Example(files={"src/model.py": """
               SCHEMA = 'Return {"answer": "A"} for {question} and {context}'


               def build(q):
                   print(SCHEMA.replace('{question}', q))
                   return '{q} and {n}'.format(q=q, n=1)
               """})],
)
def format_field_unfilled(bundle: Bundle) -> Iterator[Hit]:
    sources = [s for s in bundle.python_files() if s.ok]
    calls = [(s, c, k) for s in sources for c in calls_named(s, "format") if (k := _keyword_call(c)) is not None]
    if not calls:
        return
    # Candidate templates: plain literals with at least one field, outside docstrings, in the files
    # of the calls (a call's templates are looked for in its own file).
    literals: list[tuple[PythonSource, StringLit, list[tuple[str, str]]]] = []
    for source in {id(s): s for s, _, _ in calls}.values():
        bare = _docstrings(source)
        for lit in source.index.strings:
            if "{" not in lit.value or id(lit.node) in bare or not _is_template(lit.node):
                continue
            fields = _fields(lit.value)
            if fields:
                literals.append((source, lit, fields))
    # A literal that some format call is called on is that call's template, and no other's.
    receivers = {id(resolve(s.index, c.node.func.value, c.scope)) for s in sources for c in calls_named(s, "format")
                 if isinstance(c.node.func, cst.Attribute)}
    reported: set[int] = set()
    for source, call, keywords in calls:
        assert isinstance(call.node.func, cst.Attribute)
        at = f"{source.path}:{source.span(call.node).line}"
        direct = resolve(source.index, call.node.func.value, call.scope)
        if not isinstance(direct, (cst.Name, cst.Subscript, cst.Attribute)) and not _is_template(direct):
            continue  # called on what some other call returns: its template is not known
        if _is_template(direct):
            fields = _fields(string_value(direct) or "")
            unfilled = _unfilled(fields or [], keywords)
            if unfilled and id(direct) not in reported:
                reported.add(id(direct))
                yield Hit(source.path, _message(at, keywords, unfilled), direct)
            continue
        for lit_source, lit, fields in literals:
            if lit_source is not source or id(lit.node) in receivers or id(lit.node) in reported:
                continue  # the templates of a call are looked for in its own file
            named = {head for head, _ in fields if head.isidentifier()}
            if not named or not named <= keywords:
                continue  # not this call's template: it names a field the call does not fill
            unfilled = _unfilled(fields, keywords)
            if unfilled:
                reported.add(id(lit.node))
                yield Hit(lit_source.path, _message(at, keywords, unfilled), lit.node)
