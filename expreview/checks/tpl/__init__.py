"""TPL: what the 2026 airas-template contract asks beyond the Hydra, WandB and evaluation rules
(../shared/TEMPLATE_CONTRACT.md): the Dockerfile (TPL001), the sanity and pilot validation lines
(TPL002), and the WandB projects of those modes (TPL003)."""
