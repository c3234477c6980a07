"""The process: minimise a loss over an image's pixels with L-BFGS or Adam.

Kept apart from the losses (what to minimise) and the pipeline (what images, which sizes), as
diffusers keeps schedulers apart from models. Counts one *iteration* per loss evaluation, so
L-BFGS and Adam budgets compare; tracks the best image seen, so a Ctrl-C or a Stop keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from yingshe.core.progress import Progress


@dataclass
class OptimizeResult:
    best: torch.Tensor  # the parameter tensor with the lowest loss seen
    best_loss: float
    losses: list[float]  # loss at each evaluation
    interrupted: bool


def minimise(x: torch.Tensor, loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict]], *,
             iterations: int, optimizer: str = "lbfgs", lr: float = 1.0,
             progress: Progress | None = None,
             on_step: Callable[[int, torch.Tensor], None] | None = None) -> OptimizeResult:
    """Minimise ``loss_fn(x)`` over ``x`` in place.

    ``loss_fn`` returns (scalar loss, {name: float} parts for the progress bar). ``on_step(i, x)``
    is called after each evaluation (snapshots, previews). Ctrl-C or ``progress.stopped()``
    end the run early with ``interrupted=True``.
    """
    progress = progress or Progress()
    x.requires_grad_(True)
    state = {"i": 0, "best": x.detach().clone(), "best_loss": float("inf"), "losses": []}

    class _Stop(Exception):
        pass

    def closure():
        if state["i"] >= iterations or progress.stopped():
            raise _Stop
        opt.zero_grad(set_to_none=True)
        loss, parts = loss_fn(x)
        loss.backward()
        value = float(loss.detach())
        if not (value == value):  # NaN: stop with the best so far rather than corrupt it
            raise _Stop
        if value < state["best_loss"]:
            state["best_loss"] = value
            state["best"] = x.detach().clone()
        state["losses"].append(value)
        state["i"] += 1
        progress.update(1, loss=value, **parts)
        if on_step is not None:
            on_step(state["i"], x.detach())
        return loss

    if optimizer == "lbfgs":
        # One .step() runs up to max_iter iterations; history persists across calls. Tolerances
        # are off so the budget, not a heuristic, decides when to stop.
        opt = torch.optim.LBFGS([x], lr=lr, max_iter=iterations, max_eval=iterations,
                                history_size=100, tolerance_grad=0.0, tolerance_change=0.0)
    elif optimizer == "adam":
        opt = torch.optim.Adam([x], lr=lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}")

    interrupted = False
    try:
        while state["i"] < iterations and not progress.stopped():
            before = state["i"]
            opt.step(closure)
            if state["i"] == before:  # L-BFGS converged (no evaluation happened)
                break
    except _Stop:
        pass
    except KeyboardInterrupt:
        interrupted = True
    if progress.stopped():
        interrupted = True
    x.requires_grad_(False)
    # The last evaluated point may be better than any L-BFGS left us at after its final update,
    # but we never saw the loss of the post-update x; best-so-far is the honest answer.
    return OptimizeResult(state["best"], state["best_loss"], state["losses"], interrupted)
