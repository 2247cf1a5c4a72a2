"""Implementation files of ``mt.optim.lr_scheduler`` (import from there)."""
