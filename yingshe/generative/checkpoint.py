"""Kept for existing imports: run-folder files live in :mod:`yingshe.core.checkpoint`."""

from yingshe.core.checkpoint import (META_KEY, load_optimizer, load_tensors, optimizer_tensors,  # noqa: F401
                                     prefixed, save_tensors, unprefixed)
