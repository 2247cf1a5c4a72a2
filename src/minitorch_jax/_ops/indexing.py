"""Indexing and selection: ``__getitem__``/``__setitem__``, gather/scatter, masks, sort/topk."""

from __future__ import annotations
