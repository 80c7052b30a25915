"""Job functions that misbehave on purpose, for the fault-injection tests.

Referenced as ``_fault_jobs:NAME`` (the tests directory is on ``sys.path`` and on the
subprocesses' ``PYTHONPATH``). Each wraps :func:`_fake_jobs.math_job`, so a run that
recovers gives the same numbers as an undisturbed one.
"""

import os
import signal
import time
from pathlib import Path

from _fake_jobs import math_job


def hanging_job(config):
    """Never returns for noise 0.05 (a busy loop, like an orbit creeping to infinity)."""
    if config["observation"]["noise"] == 0.05:
        while True:
            time.sleep(0.01)
    return math_job(config)


def native_hang_job(config):
    """Blocks in one long C call for noise 0.05 (no Python bytecode runs: only a kill
    stops it)."""
    if config["observation"]["noise"] == 0.05:
        time.sleep(3600)
    return math_job(config)


def killed_once_job(config):
    """SIGKILLs its own worker the first time it runs a job (as the out-of-memory killer
    would), then computes normally; ``JDYN_FAULT_MARKS`` is the directory of markers."""
    marks = Path(os.environ["JDYN_FAULT_MARKS"])
    mark = marks / f"{config['seed']}-{config['observation']['noise']}-{config['embedding']['dim']}"
    if config["observation"]["noise"] == 0.05 and not mark.exists():
        mark.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return math_job(config)


def slow_job(config):
    """:func:`math_job` after ``JDYN_FAKE_SLEEP`` seconds."""
    time.sleep(float(os.environ.get("JDYN_FAKE_SLEEP", "0.3")))
    return math_job(config)


def reference(config):
    """The same truth as :func:`_fake_jobs.reference`."""
    return {"true_lyapunov": [0.42, -1.62], "true_correlation_dim": 1.21}


def payload_job(config):
    """:func:`math_job` with ``JDYN_PAYLOAD`` in every string it returns, its status
    included for half the jobs (so that the flagged-jobs table shows them too)."""
    payload = os.environ["JDYN_PAYLOAD"]
    out = math_job(config)
    out.update(method=payload, free_run_status=payload, nolds_settings=payload,
               reason=payload)
    if config["seed"] == 1:
        out["status"] = payload
    return out
