"""Timing helpers for the benchmarks: one thread, warm-up, interleaved repeats, medians.

How BLAS is held to one thread
------------------------------
1. ``jdyn bench ...`` sets ``OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS
   = 1`` (:func:`single_thread_env`) at process start and re-executes itself, because
   those variables only act if they are set before numpy (and so OpenBLAS) loads.
2. At run time :func:`limit_blas_threads` caps every loaded BLAS / OpenMP pool at one
   thread again (threadpoolctl when it is importable, else OpenBLAS's own
   ``openblas_set_num_threads`` through ctypes), so that :func:`measure`-style calls
   from Python are single-threaded too.
3. :func:`pin_to_one_cpu` restricts the process to one CPU. XLA (JAX) ignores the
   thread variables and sizes its thread pool from the CPU affinity mask, so this is
   the only way to hold JAX to one core; PyTorch is held by ``torch.set_num_threads(1)``.
4. :func:`blas_threads` reports what the libraries actually use (threadpoolctl, else
   ctypes), and every timing sample records process CPU time beside wall time: a
   CPU/wall ratio near 1.0 confirms that a measurement ran on one core.

Timing
------
:func:`time_interleaved` calibrates each callable so one sample lasts at least
``min_time`` seconds (``number`` calls), warms up, then takes ``repeats`` samples
round-robin over all callables (so slow drifts of machine load hit every candidate
alike) with garbage collection off, and reports the median time per call.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import os
import platform
import time

__all__ = ["THREAD_VARS", "single_thread_env", "env_is_single_threaded", "pin_to_one_cpu",
           "blas_threads", "limit_blas_threads", "numpy_blas", "cpu_model", "cpu_details", "cpu_line", "machine_info",
           "time_interleaved", "describe_threads"]

#: Environment variables that fix the thread count of OpenMP, OpenBLAS and MKL.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def single_thread_env() -> dict:
    """The environment settings that hold BLAS to one thread (set before numpy loads)."""
    return {name: "1" for name in THREAD_VARS}


def env_is_single_threaded(environ=None) -> bool:
    """Whether every variable of :func:`single_thread_env` is set to ``"1"``."""
    environ = os.environ if environ is None else environ
    return all(environ.get(k) == v for k, v in single_thread_env().items())


def pin_to_one_cpu(cpu=None):
    """Restrict this process to one CPU (by default the idlest allowed one right now).

    Returns the CPU number, or ``None`` where the platform has no affinity call.
    Call it before JAX creates its CPU client (its first computation).
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if cpu is None:
        idle = _idle_fractions(allowed)
        cpu = max(allowed, key=lambda c: (idle.get(c, 0.0), -c))
    os.sched_setaffinity(0, {int(cpu)})
    return int(cpu)


def _cpu_times():
    out = {}
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                head, *vals = line.split()
                if head.startswith("cpu") and head[3:].isdigit():
                    v = [int(x) for x in vals]
                    out[int(head[3:])] = (v[3] + (v[4] if len(v) > 4 else 0), sum(v))
    except OSError:
        pass
    return out


def _idle_fractions(cpus, interval=0.3):
    """Idle fraction of each CPU over ``interval`` seconds (``/proc/stat``; {} elsewhere)."""
    a = _cpu_times()
    if not a:
        return {}
    time.sleep(interval)
    b = _cpu_times()
    out = {}
    for c in cpus:
        if c in a and c in b and b[c][1] > a[c][1]:
            out[c] = (b[c][0] - a[c][0]) / (b[c][1] - a[c][1])
    return out


# --------------------------------------------------------------- BLAS thread pools
_GET_NAMES = ("openblas_get_num_threads", "openblas_get_num_threads64_",
              "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
              "MKL_Get_Max_Threads")
_SET_NAMES = ("openblas_set_num_threads", "openblas_set_num_threads64_",
              "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "MKL_Set_Num_Threads")


def _loaded_blas_paths():
    """Paths of loaded OpenBLAS / MKL shared libraries, from ``/proc/self/maps``."""
    paths = []
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                name = os.path.basename(path).lower()
                if ".so" in name and ("openblas" in name or "mkl_rt" in name) \
                        and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _ctypes_symbol(path, names):
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None, None
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return name, fn
    return None, None


def blas_threads() -> list:
    """Thread pools of the loaded BLAS / OpenMP libraries, as actually configured.

    Each entry: ``library`` (file name), ``api``, ``version``, ``num_threads`` and
    ``source`` (``"threadpoolctl"`` or ``"ctypes"``). Import numpy (and the peers)
    first: only loaded libraries are seen.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        return [{"library": os.path.basename(d.get("filepath", "?")),
                 "api": f"{d.get('user_api')}/{d.get('internal_api')}",
                 "version": d.get("version"), "num_threads": d.get("num_threads"),
                 "source": "threadpoolctl"} for d in threadpool_info()]
    out = []
    for path in _loaded_blas_paths():
        name, fn = _ctypes_symbol(path, _GET_NAMES)
        n = None
        if fn is not None:
            fn.restype = ctypes.c_int
            n = int(fn())
        out.append({"library": os.path.basename(path), "api": "blas", "version": None,
                    "num_threads": n, "source": f"ctypes {name}" if name else "ctypes (no symbol)"})
    return out


@contextlib.contextmanager
def limit_blas_threads(n=1):
    """Cap every loaded BLAS / OpenMP thread pool at ``n`` threads inside the block."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=n):
            yield
        return
    restore = []
    for path in _loaded_blas_paths():
        _, get = _ctypes_symbol(path, _GET_NAMES)
        _, put = _ctypes_symbol(path, _SET_NAMES)
        if get is None or put is None:
            continue
        get.restype = ctypes.c_int
        old = int(get())
        put.argtypes = [ctypes.c_int]
        put(int(n))
        restore.append((put, old))
    try:
        yield
    finally:
        for put, old in restore:
            put(old)


def numpy_blas() -> dict:
    """The BLAS numpy was built against (name, version), from ``numpy.show_config``."""
    import numpy as np

    info = {"numpy": np.__version__}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["blas"] = blas.get("name")
        info["blas_version"] = blas.get("version")
        info["blas_config"] = blas.get("openblas configuration")
    except (TypeError, ValueError, AttributeError):   # numpy < 1.25: no mode="dicts"
        info["blas"] = info["blas_version"] = info["blas_config"] = None
    return info


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo``), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_details() -> dict:
    """CPU family / model numbers and the SIMD flags that matter for BLAS (Linux only)."""
    out = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, val = line.partition(":")
                key = key.strip()
                if key in ("cpu family", "model") and key not in out:
                    out[key] = val.strip()
                elif key == "flags" and "simd" not in out:
                    flags = set(val.split())
                    out["simd"] = [f for f in ("avx", "avx2", "fma", "avx512f") if f in flags]
                if len(out) == 3:
                    break
    except OSError:
        pass
    return out


def machine_info() -> dict:
    """Everything a benchmark table needs to say where and how it was measured."""
    import datetime

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "cpu_details": cpu_details(),
        "cpus_online": os.cpu_count(),
        "cpu_affinity": affinity,
        "python": platform.python_version(),
        "platform": platform.platform(),
        **numpy_blas(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
        "blas_threads": blas_threads(),
    }


def cpu_line(info: dict) -> str:
    """The CPU model with its family/model numbers and SIMD level, e.g.
    ``AMD EPYC (family 25, model 17; avx/avx2/fma/avx512f)``, from :func:`machine_info`."""
    det = info.get("cpu_details") or {}
    if "model" not in det:
        return info["cpu"]
    simd = "/".join(det.get("simd", [])) or "no AVX"
    return f"{info['cpu']} (family {det['cpu family']}, model {det['model']}; {simd})"


def describe_threads(info: dict) -> str:
    """One paragraph saying how threads were held and what the libraries report."""
    env = ", ".join(f"{k}={v}" for k, v in info["thread_env"].items())
    pools = "; ".join(f"{d['library']} ({d['api']}{', ' + d['version'] if d['version'] else ''}): "
                      f"{d['num_threads']} thread(s) [{d['source']}]"
                      for d in info["blas_threads"]) or "none found"
    aff = info.get("cpu_affinity")
    return (f"thread env: {env}; CPU affinity {aff}; "
            f"loaded thread pools as reported at run time: {pools}")


# ------------------------------------------------------------------------- timing
def _sample(fn, number):
    t0c = time.process_time()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - t0c
    return wall / number, cpu / number


def _calibrate(fn, min_time):
    """Calls per sample so that one sample lasts at least ``min_time`` seconds."""
    number = 1
    while True:
        wall, _ = _sample(fn, number)
        if wall * number >= min_time or number >= 1 << 20:
            break
        number = max(number * 2, int(math.ceil(min_time / max(wall, 1e-9))))
    return number


def _median(xs):
    s = sorted(xs)
    k = len(s)
    return 0.5 * (s[(k - 1) // 2] + s[k // 2])


def _quantile(xs, q):
    s = sorted(xs)
    pos = q * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def time_interleaved(fns: dict, *, repeats=15, warmup=2, min_time=0.02) -> dict:
    """Median time per call of each callable in ``fns`` (name → zero-argument callable).

    Every callable is warmed up (``warmup`` calls, which also triggers JIT
    compilation), calibrated to ``number`` calls per sample, then ``repeats`` samples
    are taken round-robin over all callables with the garbage collector off.

    Returns name → ``{"median", "min", "q1", "q3", "cpu_median", "cpu_min", "number",
    "repeats", "cpu_ratio"}``: wall-clock seconds per call (``perf_counter``), the same
    in process CPU time (``process_time``), and ``cpu_ratio`` = median CPU / wall time,
    about 1.0 when the process had its core to itself. On a shared machine pinned to
    one core, CPU time leaves out the time other processes held the core, and is the
    steadier clock.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    numbers = {}
    for name, fn in fns.items():
        for _ in range(max(int(warmup), 0)):
            fn()
        numbers[name] = _calibrate(fn, min_time) if min_time > 0 else 1
    walls = {name: [] for name in fns}
    cpus = {name: [] for name in fns}
    gc_was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                w, c = _sample(fn, numbers[name])
                walls[name].append(w)
                cpus[name].append(c)
    finally:
        if gc_was:
            gc.enable()
    out = {}
    for name in fns:
        w = walls[name]
        c = cpus[name]
        out[name] = {"median": _median(w), "min": min(w), "q1": _quantile(w, 0.25),
                     "q3": _quantile(w, 0.75), "cpu_median": _median(c), "cpu_min": min(c),
                     "number": numbers[name], "repeats": repeats,
                     "cpu_ratio": _median([ci / max(x, 1e-12) for ci, x in zip(c, w)])}
    return out
