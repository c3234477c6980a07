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
    converged: bool = False  # stopped by the relative-improvement rule, before the budget


#: the convergence rule compares the best loss now with the best loss this many iterations ago
WINDOW = 10


def improvement(best: list[float], window: int = WINDOW) -> float | None:
    """Relative improvement of the best-so-far loss over the last ``window`` iterations."""
    if len(best) <= window or best[-1] <= 0:
        return None
    return (best[-1 - window] - best[-1]) / best[-1]


#: a level may be called converged only once its best loss has fallen by this many times the
#: rule's fraction in all (at the default 0.1: to half the first loss). L-BFGS can crawl for its
#: first dozen iterations when the loss is huge (a flat, generated style picture gave 9e9 and
#: moved 4e-6 of it in 10 iterations, then fell 8x): that start is not the end.
STARTED = 10


def _started(best: list[float], converge: float) -> bool:
    """The best loss has fallen by ``STARTED * converge`` since the first."""
    return best[-1] > 0 and (best[0] - best[-1]) / best[-1] >= STARTED * converge


def has_converged(best: list[float], converge: float, window: int = WINDOW) -> bool:
    """The rule: the best loss fell by less than ``converge`` (a fraction) over the last
    ``window`` iterations, after it had fallen by ``STARTED * converge`` since the first."""
    r = improvement(best, window)
    return r is not None and r < converge and _started(best, converge)


def iterations_left(best: list[float], converge: float, window: int = WINDOW) -> float | None:
    """How many more iterations until :func:`improvement` falls below ``converge``, from the
    trend of the last two windows (the improvement shrinks roughly geometrically); None when it
    cannot be told yet."""
    if len(best) <= 2 * window or not _started(best, converge):
        return None
    r_now = improvement(best, window)
    r_before = improvement(best[:-window], window)
    if r_now is None or r_before is None or r_now <= converge:
        return 0.0 if r_now is not None and r_now <= converge else None
    if r_before <= r_now:  # not slowing down yet
        return None
    import math

    return window * math.log(converge / r_now) / math.log(r_now / r_before)


def minimise(x: torch.Tensor, loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict]], *,
             iterations: int, optimizer: str = "lbfgs", lr: float = 1.0,
             progress: Progress | None = None,
             on_step: Callable[[int, torch.Tensor], None] | None = None,
             converge: float = 0.0, eta: Callable[[float | None], str | None] | None = None,
             bounds: tuple[torch.Tensor, torch.Tensor] | None = None) -> OptimizeResult:
    """Minimise ``loss_fn(x)`` over ``x`` in place, for at most ``iterations`` evaluations.

    ``loss_fn`` returns (scalar loss, {name: float} parts for the progress bar). ``on_step(i, x)``
    is called after each evaluation (snapshots, previews). ``converge`` > 0 stops once the best
    loss improved by less than that fraction over the last :data:`WINDOW` iterations.
    ``eta(iterations_left)`` turns the rule's estimate of the iterations still to come into the
    progress bar's ``left`` field. Ctrl-C or ``progress.stopped()`` end the run early with
    ``interrupted=True``.
    """
    progress = progress or Progress()
    x.requires_grad_(True)
    state = {"i": 0, "best": x.detach().clone(), "best_loss": float("inf"), "losses": [], "bests": [],
             "converged": False}

    class _Stop(Exception):
        pass

    def closure():
        if state["i"] >= iterations or progress.stopped():
            raise _Stop
        opt.zero_grad(set_to_none=True)
        if bounds is not None:  # evaluate the picture that will be saved: pixels inside the range
            with torch.no_grad():
                torch.maximum(torch.minimum(x, bounds[1], out=x), bounds[0], out=x)
        loss, parts = loss_fn(x)
        loss.backward()
        value = float(loss.detach())
        if not (value == value):  # NaN: stop with the best so far rather than corrupt it
            raise _Stop
        if value < state["best_loss"]:
            state["best_loss"] = value
            state["best"] = x.detach().clone()
        state["losses"].append(value)
        state["bests"].append(state["best_loss"])
        state["i"] += 1
        extra = {}
        if converge > 0 and eta is not None:
            left = eta(iterations_left(state["bests"], converge))
            if left:
                extra["left"] = left
        progress.update(1, loss=value, **parts, **extra)
        if on_step is not None:
            on_step(state["i"], x.detach())
        if converge > 0 and has_converged(state["bests"], converge):
            state["converged"] = True
            raise _Stop
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
    return OptimizeResult(state["best"], state["best_loss"], state["losses"], interrupted, state["converged"])
