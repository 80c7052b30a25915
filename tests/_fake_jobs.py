"""Stand-in job functions for the scenario runner's and the report's tests.

Deterministic arithmetic on the config (plus a seeded generator), so that runs can
be compared number for number. Referenced as ``_fake_jobs:NAME``: the tests
directory is on ``sys.path`` under pytest, and on ``PYTHONPATH`` for subprocesses.

:func:`contract_job` and :func:`contract_reference` are generated from the results
contract (:data:`jdyn.scenarios.contract.VARIABLES`): one value of the declared dims
and dtype for every variable the real job (and reference) writes, so the report's
tests see exactly what a real run produces; a test may then set values (never add or
reshape a variable: the result is checked against the contract again).
"""

import os
import time

import numpy as np

from jdyn.scenarios import contract

#: Sizes of the contract's own dimensions in the fakes (exponent: the embedding dim).
FAKE_SIZES = {"iteration": 8, "radius": 12, "sample": 150, "coord": 2}


def _fake_value(var, sizes, rng):
    """A value of ``var``'s declared dtype and dims."""
    if var.dtype == "str":
        return {"free_run_status": "ok", "status": "ok", "reason": ""}.get(var.name, "fake")
    if var.dtype == "bool":
        return False
    if not var.dims:
        return float(rng.uniform(0.1, 1.0))
    shape = tuple(sizes[d] for d in var.dims)
    data = np.sort(rng.uniform(-2.0, 0.5, shape))[::-1] if var.dims == ("exponent",) \
        else rng.uniform(0.0, 1.0, shape)
    return data.tolist() if var.dims == ("exponent",) else {"dims": list(var.dims),
                                                             "data": data.tolist()}


def contract_job(config, **values):
    """Every job variable of the contract for ``config`` (those its analysis switches
    on), random but seeded, with ``values`` set over them; checked against the contract."""
    rng = np.random.default_rng(config["seed"])
    sizes = {**FAKE_SIZES, "exponent": config["embedding"]["dim"]}
    out = {name: _fake_value(var, sizes, rng)
           for name, var in contract.job_variables(config).items()}
    out.update(values)
    contract.check_result(out, config)
    return out


def contract_reference(config, **values):
    """Every reference variable of the contract, seeded, with ``values`` set over them."""
    rng = np.random.default_rng(0)
    sizes = {**FAKE_SIZES, "exponent": 2}
    out = {name: _fake_value(var, sizes, rng) for name, var in contract.VARIABLES.items()
           if var.source == contract.REFERENCE}
    unknown = set(values) - set(out)
    if unknown:
        raise ValueError(f"not reference variables of the contract: {sorted(unknown)}")
    out.update(values)
    return out


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
