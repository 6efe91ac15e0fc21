"""Counting the operations torch dispatches to its kernels.

On a GPU every dispatched operation is at least one kernel launch, so the count of a training step
or of an evaluation is what the batched code keeps independent of the number of models and of
p_eval values; the cost model (:mod:`prunephase.cost`) charges a fixed time per operation.
"""

from __future__ import annotations

from collections.abc import Callable

from torch.utils._python_dispatch import TorchDispatchMode


class CountOps(TorchDispatchMode):
    """A dispatch mode that counts the operations run inside it (``count``)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def dispatched(fn: Callable[[], object]) -> int:
    """The number of operations ``fn()`` dispatches to torch's kernels."""
    counter = CountOps()
    with counter:
        fn()
    return counter.count
