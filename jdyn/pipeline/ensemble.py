"""Running an ensemble of members, in this process or in a pool of worker processes.

Members are independent fits, so they run in parallel where cores allow (``jobs``).
A member whose fit raises is reported as a failed member with the error as its
reason: one bad fit must not lose the others.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
import time
import traceback

from .members import fit_member, member_from_outcome

__all__ = ["run_members", "fit_one", "print_progress"]



def _context():
    """fork where the platform has it: a user's script then needs no
    ``if __name__ == "__main__"`` guard, and workers start at once."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _one_blas_thread():
    """Worker initializer: one BLAS thread per worker, so workers do not oversubscribe
    the cores (the members' products are small)."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)


def fit_one(config):
    """The outcome dict of one member; a fit that raises becomes a failed member."""
    start = time.perf_counter()
    try:
        result = fit_member(config)
    # What a fit of data can raise (a diverged training is a ValueError, so is a singular
    # matrix); anything else is a bug and propagates.
    except (ValueError, ArithmeticError, MemoryError) as exc:
        return {"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - start}
    return {"status": result.pop("status"), "reason": result.pop("reason"),
            "result": result, "seconds": result["seconds"]}


def run_members(configs, *, jobs=1, progress=None):
    """Fit every member config (see :func:`~jdyn.pipeline.members.fit_member`).

    Parameters
    ----------
    configs : list of dict
    jobs : int
        Worker processes (1: in this process). Each worker uses one BLAS thread.
    progress : callable(done, total, member) or None
        Called as each member finishes.

    Returns
    -------
    list of Member, in the order of ``configs``.
    """
    members = [None] * len(configs)

    def finished(i, outcome):
        members[i] = member_from_outcome(configs[i], outcome)
        if progress is not None:
            progress(sum(m is not None for m in members), len(configs), members[i])

    if jobs <= 1 or len(configs) <= 1:
        for i, config in enumerate(configs):
            finished(i, fit_one(config))
        return members
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(configs)), mp_context=_context(),
                                initializer=_one_blas_thread) as pool:
        futures = {pool.submit(fit_one, c): i for i, c in enumerate(configs)}
        for future in cf.as_completed(futures):
            finished(futures[future], future.result())
    return members


def print_progress(done, total, member, stream=None):
    """A one-line progress report per finished member, on ``stream`` (default: the
    current ``sys.stderr``)."""
    what = member.status if member.reason == "" else f"{member.status}: {member.reason}"
    print(f"  member {done}/{total} (dim {member.dim}, {member.role}) {what} "
          f"[{member.seconds:.1f} s]", file=stream or sys.stderr, flush=True)
