"""Rerunnable benchmarks behind ``jdyn bench NAME`` (results in ``docs/benchmarks.md``).

* :mod:`jdyn.bench.jprop` – J-prop gradients (vjp, jvp, Frobenius objectives) against
  the ordinary data-loss gradient of the same model, optionally against JAX and
  PyTorch (``--peers``);
* :mod:`jdyn.bench._timing` – timing helpers shared by the benchmarks: one BLAS
  thread, warm-up, interleaved repeats, medians.

Nothing heavy is imported here: the peers (JAX, PyTorch) load only when asked for.
"""

__all__: list[str] = []
