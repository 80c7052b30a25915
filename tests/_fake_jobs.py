"""Stand-in job functions for the scenario runner's tests.

Deterministic arithmetic on the config (plus a seeded generator), so that runs can
be compared number for number. Referenced as ``_fake_jobs:NAME``: the tests
directory is on ``sys.path`` under pytest, and on ``PYTHONPATH`` for subprocesses.
"""

import os
import time

import numpy as np


def math_job(config):
    """Exponents from the noise, dim and seed: one per embedding dimension."""
    noise = config["observation"]["noise"]
    dim = config["embedding"]["dim"]
    rng = np.random.default_rng(config["seed"])
    jitter = rng.standard_normal(dim) * 1e-3
    lyap = np.array([0.42 - noise] + [-1.6 - k for k in range(dim - 1)]) + jitter
    strength = config["objective"]["strength"]
    return {
        "lyapunov": lyap,
        "lyapunov_stderr": np.full(dim, 0.01 + noise),
        "kaplan_yorke": float(1 + lyap[0] / abs(lyap[1])) if dim > 1 else 0.0,
        "one_step_error": noise + 1e-3 * sum(config["model"]["hidden"]),
        "strength_used": 0.5 if strength == "auto" else strength,
        "diverged": bool(noise > 0.09),
        "n_iter": np.int64(10 + config["seed"]),
        "method": config["objective"]["regulariser"],
        "loss_curve": {"dims": ["iteration"], "data": list(np.linspace(1, 0, 3 + dim))},
        "status": "ok",
        "reason": "",
    }


def slow_job(config):
    """:func:`math_job` after a pause, for progress, kill and resume tests."""
    time.sleep(float(os.environ.get("JDYN_FAKE_SLEEP", "0.4")))
    return math_job(config)


def crashy_job(config):
    """Raises for noise 0.05; the other jobs must survive."""
    if config["observation"]["noise"] == 0.05:
        raise FloatingPointError("the fit blew up at noise 0.05")
    return math_job(config)


def dying_job(config):
    """Kills its worker process outright (as an out-of-memory kill would)."""
    if config["observation"]["noise"] == 0.05:
        os._exit(3)
    time.sleep(0.5)
    return math_job(config)


def noop_job(config):
    """Does nothing: the runner's own overhead per job."""
    return {}


def reference(config):
    """Job-independent truth, picked up beside ``math_job`` automatically."""
    return {"true_lyapunov": [0.42, -1.62], "true_correlation_dim": 1.21}
