"""One progress protocol for every long job: tqdm in a terminal, the studio's bar, a callback.

Mappings call ``start`` / ``update(**metrics)`` / ``preview(image)`` and poll ``stopped()``
between steps, so the studio's Stop button and Ctrl-C both end a job cleanly.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Callable

#: set by Ctrl-C in a command-line run (see :func:`catch_ctrl_c`). Ctrl-C also raises
#: KeyboardInterrupt as usual; the flag is what still stops a job when a C extension that was
#: running (torch, numpy, PIL) swallowed that exception: every ``stopped()`` sees it.
CTRL_C = threading.Event()


def _on_ctrl_c(signum, frame):
    CTRL_C.set()
    raise KeyboardInterrupt


def catch_ctrl_c() -> None:
    """For the command line: clear the flag and route Ctrl-C through it (main thread only)."""
    CTRL_C.clear()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_ctrl_c)


class Progress:
    """Silent progress (the base class and the default for library calls)."""

    def start(self, total: int, desc: str = "") -> None:
        pass

    def update(self, n: int = 1, **metrics: Any) -> None:
        pass

    def preview(self, image: Any, step: int | None = None) -> None:
        pass

    def stopped(self) -> bool:
        return CTRL_C.is_set()

    def close(self) -> None:
        pass


class TqdmProgress(Progress):
    """A terminal progress bar (to stderr, so ``-o -`` can write PNG bytes to stdout)."""

    def __init__(self, disable: bool | None = None):
        self._bar = None
        self._disable = disable

    def start(self, total: int, desc: str = "") -> None:
        from tqdm.auto import tqdm

        self.close()
        self._bar = tqdm(total=total, desc=desc, file=sys.stderr, dynamic_ncols=True,
                         disable=self._disable, leave=True)

    def update(self, n: int = 1, **metrics: Any) -> None:
        if self._bar is not None:
            if metrics:
                self._bar.set_postfix({k: _fmt(v) for k, v in metrics.items()}, refresh=False)
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class CallbackProgress(Progress):
    """Calls ``on_update(done, total, metrics)`` and ``on_preview(image, step)``; ``stop()`` ends the job."""

    def __init__(self, on_update: Callable | None = None, on_preview: Callable | None = None):
        self.on_update, self.on_preview = on_update, on_preview
        self.total = 0
        self.done = 0
        self.desc = ""
        self.metrics: dict = {}
        self._stop = False

    def start(self, total: int, desc: str = "") -> None:
        self.total, self.done, self.desc = total, 0, desc

    def update(self, n: int = 1, **metrics: Any) -> None:
        self.done += n
        self.metrics = metrics
        if self.on_update:
            self.on_update(self.done, self.total, metrics)

    def preview(self, image: Any, step: int | None = None) -> None:
        if self.on_preview:
            self.on_preview(image, step)

    def stop(self) -> None:
        self._stop = True

    def stopped(self) -> bool:
        return self._stop or CTRL_C.is_set()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
