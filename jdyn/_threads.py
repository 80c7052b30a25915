"""Holding this process's BLAS and OpenMP thread pools to one thread.

Worker processes get one BLAS thread each (their environment is set before numpy
loads). A run in this process (``jdyn run --jobs 1``, a benchmark) needs the same at
run time, after numpy has loaded: otherwise OpenBLAS starts one thread per core and a
single job uses 1.75× the CPU of a pinned one (3–4× under load) for no speed-up on
the small products of these models.
"""

from __future__ import annotations

import contextlib

__all__ = ["one_blas_thread"]


@contextlib.contextmanager
def one_blas_thread():
    """Cap every loaded BLAS / OpenMP pool at one thread inside the block (threadpoolctl);
    the previous limits are restored on exit."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
