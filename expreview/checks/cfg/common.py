"""CFG: what several of the package's modules share: the run configs, the keys of their run list
and of a run's id (run_list for CFG002, run_variations for CFG007), and the string normalisers a name
dispatch applies (dispatch_branches and config_origin, for CFG004)."""

RUN_CONFIGS = ("config/smoke_test.yaml", "config/full_experiment.yaml")
RUN_LIST_KEYS = ("runs", "variations", "experiments", "run_variations", "run_configs", "configs", "trials")
RUN_ID_KEYS = ("run_id", "name", "id")
NORMALISERS = ("upper", "lower", "casefold", "strip")
