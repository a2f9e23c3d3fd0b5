"""CFG: the configuration files. Plain YAML: it parses (yaml_parse, CFG001), holds the run list
(run_list, CFG002) and numbers PyYAML reads as numbers (yaml_numbers, CFG003). Derived: configured
names the code's dispatch handles (configured_names, CFG004, following dispatch, dispatch_branches and
config_origin), keys some file reads (unused_keys, CFG005), every run variation in both run configs
(run_variations, CFG007). Hydra (config_paths, CFG006; struct_writes, CFG008), what Hydra itself composes (composition,
CFG009) and runs that compute the same thing (same_runs, CFG010)."""
