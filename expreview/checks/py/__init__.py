"""PY: the code can run at all: it parses, its names exist, its imports resolve (names, PY001-PY005);
its calls match the bundle's own signatures and returns, and its classes support how they are used
(contracts, PY006, PY007, PY009); the third-party names it uses exist (api_names, PY008); its format templates can be filled (format_fields,
PY010)."""
