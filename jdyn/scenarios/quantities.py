"""Each quantity of a job computed on its own: one failure costs one value, not the job.

A fitted model whose free iterates overflow makes its multi-step prediction error
raise, yet its Lyapunov spectrum along the data is already computed and sound. A job
function therefore asks :class:`Attempts` for each separable quantity: a failure
becomes the quantity's fallback (NaN) and one entry of the job's reason, and the job's
status becomes ``"partial"`` instead of the whole job becoming an error.
"""

from __future__ import annotations

__all__ = ["Attempts", "PARTIAL"]

#: Status of a job of which some quantities failed (their reasons in ``reason``).
PARTIAL = "partial"


class Attempts:
    """Calls that may fail, and what failed.

    Examples
    --------
    >>> attempt = Attempts()
    >>> attempt("ratio", lambda: 1 / 0, fallback=float("nan"))
    nan
    >>> attempt.status("ok"), attempt.reason("")
    ('partial', 'ratio failed: ZeroDivisionError: division by zero')
    """

    def __init__(self):
        self.failed = []

    def __call__(self, name, fn, *args, fallback=None, **kwargs):
        """``fn(*args, **kwargs)``, or ``fallback`` if it raises (recorded under ``name``)."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one quantity must not discard the others
            self.failed.append(f"{name} failed: {type(exc).__name__}: {exc}")
            return fallback

    def status(self, status) -> str:
        """``status``, or :data:`PARTIAL` when it is "ok" and something failed."""
        return PARTIAL if self.failed and status == "ok" else status

    def reason(self, reason) -> str:
        """``reason`` followed by every failure."""
        return "; ".join(r for r in (reason, *self.failed) if r)
