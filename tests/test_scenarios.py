"""Scenario files: validation messages, the schema as data, sweep expansion, hashes."""

import sys
import textwrap
from pathlib import Path

import pytest

from jdyn.cli import main
from jdyn.scenarios import ScenarioError, expand, load_scenario, loads, scenario_hash
from jdyn.scenarios.schema import SCHEMA, SWEEP_AXES, iter_keys, markdown_table


TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:  # the fake job functions are imported by name
    sys.path.insert(0, TESTS)


@pytest.fixture(autouse=True)
def _fake_job_fn(monkeypatch):
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:math_job")


HEAD = '[scenario]\nname = "t"\n[system]\nname = "henon"\n'

# (id, file text, fragments the message must contain)
MALFORMED = [
    ("unknown-key", HEAD + "[model]\nhiden = [10]\n",
     ["model.hiden: unknown key; did you mean 'hidden'?"]),
    ("wrong-type", HEAD + '[observation]\nlength = "5000"\n',
     ['observation.length: got "5000" (a string); expected an integer in [100, 10000000]']),
    ("float-for-int", HEAD + "[embedding]\ndim = 2.0\n",
     ["embedding.dim: got 2.0 (a float); expected an integer in [1, 20]"]),
    ("negative-noise", HEAD + "[observation]\nnoise = -0.1\n",
     ["observation.noise: got -0.1; expected a number in [0, 1]"]),
    ("nan-noise", HEAD + "[observation]\nnoise = nan\n",
     ["observation.noise: got nan; expected a finite number"]),
    ("bool-for-number", HEAD + "[observation]\nnoise = true\n",
     ["observation.noise: got true (a boolean); expected a number in [0, 1]"]),
    ("empty-sweep", HEAD + "[sweep]\nnoise = []\n",
     ["sweep.noise: empty list; expected at least one value"]),
    ("sweep-not-list", HEAD + "[sweep]\nnoise = 0.1\n",
     ["sweep.noise: got 0.1; expected a non-empty list"]),
    ("sweep-value-range", HEAD + "[sweep]\nnoise = [0, 0.1, 1.5]\n",
     ["sweep.noise[2]: got 1.5; expected a number in [0, 1]"]),
    ("sweep-nested", HEAD + "[sweep]\nhidden = [[30], [0, 5]]\n",
     ["sweep.hidden[1][0]: got 0; expected an integer >= 1"]),
    ("sweep-duplicate", HEAD + "[sweep]\nseed = [0, 1, 0]\n",
     ["sweep.seed[2]: got 0 again (as sweep.seed[0]); expected distinct values"]),
    ("unknown-axis", HEAD + "[sweep]\nnosie = [0.1]\n",
     ["sweep.nosie: unknown sweep axis; did you mean 'noise'?"]),
    ("swept-and-set", HEAD + "[observation]\nnoise = 0.1\n[sweep]\nnoise = [0.0, 0.1]\n",
     ["observation.noise: also swept by sweep.noise"]),
    ("missing-system", '[scenario]\nname = "t"\n',
     ["system: missing required table [system]"]),
    ("missing-name", HEAD.replace('name = "t"\n', 'description = "x"\n', 1),
     ["scenario.name: missing; expected a string"]),
    ("bad-toml", HEAD + '[model]\nkind = "mlp\n', ["invalid TOML", "line 6"]),
    ("unknown-system", '[scenario]\nname = "t"\n[system]\nname = "henonn"\n',
     ['system.name: got "henonn"; expected one of', "did you mean 'henon'?"]),
    ("dt-on-map", HEAD + "[observation]\ndt = 0.05\n",
     ["observation.dt: got 0.05; expected no dt for the map 'henon'"]),
    ("strength-string", HEAD + '[objective]\nstrength = "high"\n',
     ['objective.strength: got "high" (a string); expected a number >= 0 or "auto"']),
    ("choice-typo", HEAD + '[objective]\nregulariser = "weight-decay"\n',
     ["did you mean 'weight_decay'?"]),
    ("open-interval", HEAD + "[training]\nvalidation_fraction = 0.5\n",
     ["training.validation_fraction: got 0.5; expected a number in (0, 0.5)"]),
    ("unknown-table", HEAD + "[modle]\nkind = 'mlp'\n",
     ["modle: unknown table; did you mean 'model'?"]),
    ("key-in-wrong-table", HEAD + "noise = 0.1\n",
     ["system.noise: unknown key; it belongs in [observation] (observation.noise)"]),
    ("unknown-parameter", HEAD + "params = {a = 1.4, bb = 0.3}\n",
     ["system.params.bb: unknown parameter of 'henon'; did you mean 'b'?"]),
    ("coordinate-range", HEAD + "[observation]\ncoordinate = 2\n",
     ["observation.coordinate: got 2; expected an integer in [0, 1]"]),
    ("section-not-table", 'model = "mlp"\n' + HEAD,
     ['model: got "mlp" (a string); expected a table [model]']),
    ("negative-seed", "seed = -1\n" + HEAD, ["seed: got -1; expected an integer in [0,"]),
]


@pytest.mark.parametrize("text, fragments", [c[1:] for c in MALFORMED],
                         ids=[c[0] for c in MALFORMED])
def test_malformed_scenario_fails_through_cli(tmp_path, capsys, text, fragments):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jdyn: {path}: ")
    for fragment in fragments:
        assert fragment in err
    assert not out.exists()
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_every_problem_is_reported_at_once():
    text = HEAD + "[model]\nhiden = [10]\n[observation]\nnoise = -1\n[sweep]\ndim = []\n"
    with pytest.raises(ScenarioError) as info:
        loads(text, source="x.toml")
    message = str(info.value)
    assert message.startswith("x.toml: 3 problems:")
    assert len(info.value.problems) == 3
    assert isinstance(info.value, ValueError)


def test_missing_file_fails_cleanly(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_defaults_and_normalisation():
    s = loads(HEAD + "[observation]\nnoise = 0\n")
    noise = s.data["observation"]["noise"]
    assert noise == 0.0 and isinstance(noise, float)
    assert s.data["observation"]["dt"] is None
    assert s.data["model"]["hidden"] == [30]
    assert s.data["seed"] == 0
    assert s.output_dir == "runs/t"
    assert set(s.base_config()) == {"seed", "system", "observation", "embedding", "model",
                                    "objective", "training", "analysis"}


def test_flows_get_a_default_dt_and_accept_one():
    flow = loads('[scenario]\nname = "f"\n[system]\nname = "lorenz"\n')
    assert flow.data["observation"]["dt"] == 0.01
    flow = loads('[scenario]\nname = "f"\n[system]\nname = "lorenz"\n[observation]\ndt = 0.05\n')
    assert flow.data["observation"]["dt"] == 0.05


def test_auto_strength_and_output_dir():
    s = loads(HEAD + '[objective]\nstrength = "auto"\n[output]\ndir = "elsewhere"\n')
    assert s.data["objective"]["strength"] == "auto"
    assert s.output_dir == "elsewhere"


SWEEP = HEAD + textwrap.dedent("""\
    [sweep]
    noise = [0, 0.05, 0.1]
    regulariser = ["none", "jacobian"]
    hidden = [[10], [20, 20]]
    """)


def test_sweep_is_the_product_in_file_order():
    jobs = expand(loads(SWEEP))
    assert len(jobs) == 12
    assert [j.index for j in jobs[:3]] == [(0, 0, 0), (0, 0, 1), (0, 1, 0)]
    job = jobs[-1]
    assert job.coords == {"noise": 0.1, "regulariser": "jacobian", "hidden": [20, 20]}
    assert job.config["observation"]["noise"] == 0.1
    assert job.config["objective"]["regulariser"] == "jacobian"
    assert job.config["model"]["hidden"] == [20, 20]
    assert job.config["seed"] == 0
    assert len({j.id for j in jobs}) == 12


def test_job_ids_are_stable_and_depend_on_the_config_only():
    ids = [j.id for j in expand(loads(SWEEP))]
    assert ids == [j.id for j in expand(loads(SWEEP))]
    reordered = HEAD + ('[sweep]\nhidden = [[10], [20, 20]]\nregulariser = ["none", "jacobian"]\n'
                        "noise = [0.0, 0.05, 0.1]\n")
    assert sorted(ids) == sorted(j.id for j in expand(loads(reordered)))
    other = loads(SWEEP.replace('name = "t"', 'name = "renamed"'))
    assert ids == [j.id for j in expand(other)]
    changed = loads(SWEEP + "[embedding]\nlag = 2\n")
    assert not set(ids) & {j.id for j in expand(changed)}


def test_scenario_hash_ignores_output_only():
    base = scenario_hash(loads(SWEEP))
    assert scenario_hash(loads(SWEEP + '[output]\ndir = "x"\n')) == base
    assert scenario_hash(loads(SWEEP.replace("0.1]", "0.2]"))) != base
    assert scenario_hash(loads("seed = 3\n" + SWEEP)) != base


def test_no_sweep_is_one_job():
    jobs = expand(loads(HEAD))
    assert len(jobs) == 1 and jobs[0].index == () and jobs[0].coords == {}


def test_schema_documents_every_key():
    table = markdown_table()
    for path, key in iter_keys():
        assert key.doc and f"`{path}`" in table
    for axis, target in SWEEP_AXES.items():
        assert len(target) == 1 or target[1] in SCHEMA[target[0]].keys


def test_dry_run_prints_the_table_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SWEEP)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "12 jobs (3 noise x 2 regulariser x 2 hidden)" in out
    rows = [line for line in out.splitlines() if line.endswith(" pending")]
    assert "[20, 20]" in out and len(rows) == 12                # one row per job
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["run", "report"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: jdyn " + command in capsys.readouterr().out


def test_bad_options_exit_2(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(HEAD)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--jobs", "0"]) == 2
    assert "--jobs must be a positive integer" in capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--scheduler", "x"]) == 2
    assert "--scheduler is only used with --executor dask" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
