"""CFG: every dataset/model name the configs set is one the code's name dispatch handles (CFG004);
the dispatch analysis it follows is in dispatch."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.cfg.dispatch import dispatches
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule


def _yaml_values_at(bundle: Bundle, keys: tuple):
    """(doc, entry) for every scalar whose key path ends with `keys` (list indices skipped)."""
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            path = tuple(k for k in entry.path if isinstance(k, str))
            if path[-len(keys):] == keys and isinstance(entry.node.value, str):
                yield doc, entry


@rule(
    code="CFG004", name="configured-name-not-handled", severity=ERROR,
    consequence=CRASH,
    criterion="All run variations are implemented: every dataset/model name in the configs is "
              "handled by the code's name dispatch (after its .upper()/.lower() normalisation).",
    rationale="A configured name that the dispatch does not know falls through to "
              "NotImplementedError at the start of the run (seed 002: `WIKITEXT_103`).",
    invalid=[Example(files={
        "src/preprocess.py": """
            def get_data(cfg):
                name = cfg['dataset']['name'].upper()
                if name == 'DIGITS':
                    return [1]
                raise NotImplementedError(f'dataset {name}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: WIKITEXT_103
            """}),
             # an earlier test that does not return lets the name through to the dispatch
             Example(files={
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: dummy
            """,
        "src/preprocess.py": """
            def _factory(name):
                if name == 'cifar10':
                    return 1
                raise NotImplementedError(f'dataset {name}')


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'dummy':
                    print('using the dummy dataset')
                return _factory(name)
            """}, line=4, message="dataset.name: dummy"),
             # a prefix test handles the names it starts, not others
             Example(files={
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                model:
                  name: vit_b16
            """,
        "src/model.py": """
            def build_model(cfg):
                name = cfg['model']['name']
                if name.startswith('resnet'):
                    return 1
                if name in ('mlp', 'cnn'):
                    return 2
                raise ValueError(f'unknown model {name}')
            """}, line=4, message="resnet*")],
    valid=[Example(files={
        "src/preprocess.py": """
            REGISTRY = {'DIGITS': 1, 'WIKITEXT_103': 2}


            def get_data(cfg):
                name = cfg['dataset']['name'].upper()
                if name not in REGISTRY:
                    raise NotImplementedError(f'dataset {name}')
                return REGISTRY[name]
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: wikitext_103
            """}),
           Example(files={
        "src/preprocess.py": """
            from datasets import load_dataset


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'synthetic':
                    return []
                if not name:
                    raise ValueError('unknown dataset')
                return load_dataset(name)
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: wikitext
            """}),
           # handled before the dispatch: the caller returns for `dummy` before calling the factory
           Example(files={
        "src/preprocess.py": """
            def _factory(name):
                if name == 'cifar10':
                    return 1
                raise NotImplementedError(f'dataset {name}')


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'dummy':
                    return 0
                return _factory(name)
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: dummy
            """}),
           # a prefix test (`startswith`) and `in (...)`/`in {...}` membership handle their names
           Example(files={
        "src/model.py": """
            SMALL = frozenset({'mlp', 'cnn'})


            def build_model(cfg):
                name = cfg['model']['name'].lower()
                if name.startswith('resnet'):
                    return 1
                if name in ('vit_b16', 'vit_s16') or name in SMALL:
                    return 2
                raise ValueError(f'unknown model {name}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                model:
                  name: ResNet50
              - run_id: b
                model:
                  name: vit_b16
              - run_id: c
                model:
                  name: cnn
            """}),
           # the raise of another variable's chain is not where an unhandled task goes
           Example(files={
        "src/train.py": """
            def train(cfg):
                task = cfg['task']['name']
                if task == 'classification':
                    head = 'softmax'
                else:
                    head = 'lm'
                optimizer = cfg['training']['optimizer']
                if optimizer == 'sgd':
                    return head, 1
                else:
                    raise ValueError(f'unknown optimizer {optimizer}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                task:
                  name: language_modeling
                training:
                  optimizer: sgd
            """})],
)
def configured_name_not_handled(bundle: Bundle) -> Iterator[Hit]:
    reported = set()
    sources = tuple(s for s in bundle.python_files() if s.ok)
    for source in sources:
        for dispatch in dispatches(source, sources):
            for doc, entry in _yaml_values_at(bundle, dispatch.keys[-2:] if len(dispatch.keys) > 1 else dispatch.keys):
                value = entry.node.value
                if dispatch.accepts(value) or (doc.path, value, dispatch.function.name) in reported:
                    continue
                reported.add((doc.path, value, dispatch.function.name))
                assert dispatch.fallback is not None  # dispatches() always sets it: the raise an unhandled name reaches
                line = source.span(dispatch.fallback).line
                handled = ", ".join(dispatch.handled_names)
                norm = "".join(f".{op}()" for op in dispatch.normalise)
                after = f"after `{dispatch.var}{norm}` it handles" if norm else "it handles"
                yield Hit(doc.path, f"`{'.'.join(dispatch.keys)}: {value}` is not handled by "
                                    f"`{dispatch.function.name}` in {source.path} ({after} "
                                    f"{handled}); the run reaches `{dispatch.error_name}` at "
                                    f"{source.path}:{line}. Implement this name there or use a handled one",
                          entry.node)
