"""Scenarios: declared sweeps in TOML, run in parallel and resumably, kept as xarray.

From Python::

    from jdyn.scenarios import load_scenario, expand, run, open_results

    scenario = load_scenario("scenarios/quickstart.toml")   # validates the whole file
    for job in expand(scenario):                            # the product of the sweep
        print(job.id, job.coords)
    summary = run(scenario, out_dir="runs/q", jobs=2)       # or resume=True, dry_run=True
    ds = open_results(summary.out_dir)                      # the results Dataset

The file format is described, as data, in :mod:`jdyn.scenarios.schema`.
"""

from jdyn.scenarios.executors import ExecutorError
from jdyn.scenarios.sweep import Job, expand, job_id, scenario_hash
from jdyn.scenarios.load import Scenario, ScenarioError, load_scenario, loads
from jdyn.scenarios.results import assemble, open_results
from jdyn.scenarios.runner import RunSummary, run

__all__ = [
    "Scenario", "ScenarioError", "load_scenario", "loads",
    "Job", "expand", "job_id", "scenario_hash",
    "run", "RunSummary", "ExecutorError",
    "assemble", "open_results",
]
