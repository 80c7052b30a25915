"""Bad input, as a careless or hostile user gives it: scenario files, the command line and
the public Python API.

Every case asserts the error's type, that its message names the argument (or the file
and the key) and, where files could be written, that none were. Scenario cases are
generated from the schema itself, so a new key gets its bad values checked too.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from jdyn.cli import main
from jdyn.scenarios import ScenarioError, loads, run
from jdyn.scenarios.schema import SCHEMA, SWEEP_AXES

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

BASE = {"scenario": {"name": '"bad"'}, "system": {"name": '"henon"'},
        "observation": {"length": "500"}}


def toml(tables, top=""):
    """TOML text from ``{table: {key: literal}}`` and top-level lines."""
    parts = [top] if top else []
    for table, keys in tables.items():
        parts.append(f"[{table}]")
        parts += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(parts) + "\n"


def with_key(section, name, literal):
    tables = {t: dict(k) for t, k in BASE.items()}
    tables.setdefault(section, {})[name] = literal
    return toml(tables)


def _bad_literals(key):
    """TOML literals a key must refuse, by its type and bounds."""
    out = {"str": ['3', 'true', '[1]'], "bool": ['"yes"', '1'],
           "int_list": ['[]', '["a"]', '5', '[1.5]'], "float_table": ['"x"', '{a = "b"}'],
           "int": ['"x"', '1.5', 'true'], "float": ['"x"', 'true', 'nan', 'inf'],
           "strength": ['"autox"', 'true', '-1.0']}[key.type]
    if key.choices:
        out.append('"no-such-choice"')
    if key.pattern:
        out += ['""', '"../up"'] if key.pattern.startswith("[") else ['"   "']
    if key.type in ("int", "int_list", "float") and key.low is not None:
        low = key.low - 1 if key.type != "float" else key.low - 0.5
        out.append(str(int(low)) if key.type == "int" else f"[{int(low)}]"
                   if key.type == "int_list" else repr(float(low)))
    if key.type in ("int", "float") and key.high is not None:
        out.append(str(int(key.high) + 1) if key.type == "int" else repr(key.high + 0.5))
    return out


def _schema_cases():
    for section, spec in SCHEMA.items():
        for name, key in spec.keys.items():
            if section == "observation" and name == "dt":
                continue                  # its own cases below (maps refuse any dt)
            for literal in _bad_literals(key):
                yield pytest.param(section, name, literal, id=f"{section}.{name}={literal}")


def assert_refused(tmp_path, text, *needles, capsys, args=None):
    """``jdyn run`` exits 2 with one line naming the file and every needle; nothing
    is written."""
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    args = ["--out", str(tmp_path / "out")] if args is None else args
    code = main(["run", str(path), "--jobs", "1", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("jdyn: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert sorted(tmp_path.iterdir()) == before
    return err


@pytest.fixture(autouse=True)
def _fake_jobs(monkeypatch, tmp_path):
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:math_job")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("section, name, literal", list(_schema_cases()))
def test_scenario_key_with_a_bad_value(tmp_path, capsys, section, name, literal):
    assert_refused(tmp_path, with_key(section, name, literal), "s.toml",
                   f"{section}.{name}", capsys=capsys)


@pytest.mark.parametrize("literal", ['"x"', '-1', '1.5', 'true', str(2**32)])
def test_top_level_seed(tmp_path, capsys, literal):
    assert_refused(tmp_path, toml(BASE, f"seed = {literal}"), "s.toml", "seed",
                   capsys=capsys)


@pytest.mark.parametrize("axis", list(SWEEP_AXES))
@pytest.mark.parametrize("literal, says", [("[]", "empty list"), ('"x"', "expected a non-empty list"),
                                           ("{a = 1}", "expected a non-empty list")])
def test_sweep_axis_not_a_list_of_values(tmp_path, capsys, axis, literal, says):
    text = toml({**BASE, "sweep": {axis: literal}})
    assert_refused(tmp_path, text, f"sweep.{axis}", says, capsys=capsys)


SWEEP_VALUES = {"noise": ["0.1", "0.1"], "regulariser": ['"none"', '"none"'],
                "strength": ["1.0", "1.0"], "seed": ["1", "1"], "hidden": ["[3]", "[3]"],
                "dim": ["2", "2"]}


@pytest.mark.parametrize("axis", list(SWEEP_AXES))
def test_sweep_axis_repeats_a_value(tmp_path, capsys, axis):
    text = toml({**BASE, "sweep": {axis: f"[{', '.join(SWEEP_VALUES[axis])}]"}})
    assert_refused(tmp_path, text, f"sweep.{axis}[1]", "again", capsys=capsys)


@pytest.mark.parametrize("axis", list(SWEEP_AXES))
def test_sweep_axis_also_set_in_its_table(tmp_path, capsys, axis):
    path = SWEEP_AXES[axis]
    value = SWEEP_VALUES[axis][0]
    tables = {t: dict(k) for t, k in BASE.items()}
    top = ""
    if len(path) == 1:
        top = f"{path[0]} = {value}"
    else:
        tables.setdefault(path[0], {})[path[1]] = value
    tables["sweep"] = {axis: f"[{value}]"}
    assert_refused(tmp_path, toml(tables, top), ".".join(path), f"sweep.{axis}",
                   capsys=capsys)


STRUCTURE = [
    ("unknown table", toml({**BASE, "modle": {"kind": '"mlp"'}}), ["modle", "model"]),
    ("unknown key", with_key("model", "hiden", "[3]"), ["model.hiden", "hidden"]),
    ("key in the wrong table", with_key("model", "noise", "0.1"), ["model.noise",
                                                                  "observation.noise"]),
    ("unknown sweep axis", toml({**BASE, "sweep": {"noize": "[0.1]"}}), ["sweep.noize"]),
    ("table given as a value", toml({"scenario": BASE["scenario"]}, 'system = "henon"'),
     ["system"]),
    ("missing [system]", toml({"scenario": BASE["scenario"]}), ["[system]"]),
    ("missing [scenario]", toml({"system": BASE["system"]}), ["[scenario]"]),
    ("missing system.name", toml({"scenario": BASE["scenario"], "system": {}}),
     ["system.name"]),
    ("missing scenario.name", toml({"scenario": {}, "system": BASE["system"]}),
     ["scenario.name"]),
    ("unknown system parameter", with_key("system", "params", "{sigma = 10.0}"),
     ["system.params.sigma"]),
    ("coordinate beyond the system", with_key("observation", "coordinate", "2"),
     ["observation.coordinate"]),
    ("dt for a map", with_key("observation", "dt", "0.01"), ["observation.dt"]),
    ("negative dt", with_key("observation", "dt", "-0.01"), ["observation.dt"]),
    ("not TOML", "[scenario\nname = 1\n", ["invalid TOML"]),
    ("duplicate key", toml(BASE) + "[scenario]\nname = \"again\"\n", ["invalid TOML"]),
    ("deeply nested", "x = " + "[" * 5000 + "]" * 5000 + "\n", ["invalid TOML"]),
    ("nested inline tables", "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
     ["invalid TOML"]),
    ("empty file", "", ["[scenario]"]),
    ("output.dir absolute", with_key("output", "dir", '"/tmp/elsewhere"'), ["output.dir",
                                                                          "--out"]),
    ("output.dir climbing out", with_key("output", "dir", '"../../elsewhere"'),
     ["output.dir", "inside the working directory"]),
    ("output.dir climbing through", with_key("output", "dir", '"runs/../../x"'),
     ["output.dir"]),
    ("10^7 jobs", toml({**BASE, "sweep": {
        "seed": str(list(range(1000))), "noise": str([i / 1e4 for i in range(100)]),
        "dim": str(list(range(1, 21))), "strength": str([float(i) for i in range(1, 6)])}}),
     ["10,000,000 jobs", "--max-jobs", "limits.max_jobs"]),
    ("over a lowered max_jobs", toml({**BASE, "limits": {"max_jobs": "3"},
                                      "sweep": {"seed": "[1, 2, 3, 4]"}}),
     ["4 jobs", "limit of 3"]),
    ("a huge hidden layer", with_key("model", "hidden", "[100000000]"),
     ["MB", "model width 100,000,000", "--max-job-memory"]),
    ("a huge series", toml({**BASE, "observation": {"length": "10000000"}}),
     ["observation.length 10,000,000", "limits.max_job_memory"]),
    ("a huge polynomial", toml({**BASE, "model": {"kind": '"polynomial"', "degree": "10"},
                                "embedding": {"dim": "20"},
                                "observation": {"length": "1000000"}}), ["MB"]),
    ("a huge swept width", toml({**BASE, "sweep": {"hidden": "[[3], [50000000]]"}}),
     ["model width 50,000,000"]),
]


@pytest.mark.parametrize("text, needles", [pytest.param(t, n, id=i) for i, t, n in STRUCTURE])
def test_scenario_structure(tmp_path, capsys, text, needles):
    args = [] if "output.dir" in needles else None     # output.dir counts without --out
    assert_refused(tmp_path, text, *needles, capsys=capsys, args=args)


def test_a_bom_is_not_an_error(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_bytes("\ufeff".encode() + toml(BASE).encode())
    assert main(["run", str(path), "--dry-run"]) == 0


@pytest.mark.parametrize("content, says", [(b"\xff\xfe\x00garbage", "not UTF-8"),
                                           (b"\x00\x01\x02", "invalid TOML")])
def test_unreadable_scenario_bytes(tmp_path, capsys, content, says):
    path = tmp_path / "s.toml"
    path.write_bytes(content)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and says in err and not (tmp_path / "out").exists()


def test_missing_and_directory_scenarios(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err
    assert main(["run", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


# ------------------------------------------------------------------ command line

CLI_OPTIONS = [
    (["--jobs", "0"], "--jobs"), (["--jobs", "x"], "--jobs"), (["--jobs", "-2"], "--jobs"),
    (["--job-timeout", "0"], "--job-timeout"), (["--job-timeout", "-1"], "--job-timeout"),
    (["--job-timeout", "x"], "--job-timeout"), (["--job-timeout", "inf"], "--job-timeout"),
    (["--job-timeout", "nan"], "--job-timeout"), (["--max-jobs", "0"], "--max-jobs"),
    (["--max-jobs", "1.5"], "--max-jobs"), (["--max-jobs", "x"], "--max-jobs"),
    (["--max-job-memory", "0"], "--max-job-memory"),
    (["--max-job-memory", "lots"], "--max-job-memory"),
    (["--executor", "slurm"], "--executor"), (["--frobnicate"], "--frobnicate"),
]


@pytest.mark.parametrize("args, name", CLI_OPTIONS, ids=[" ".join(a) for a, _ in CLI_OPTIONS])
def test_bad_run_option(tmp_path, capsys, args, name):
    """One line from jdyn for values, argparse's usage and error for unknown choices."""
    path = tmp_path / "s.toml"
    path.write_text(toml(BASE))
    try:
        code = main(["run", str(path), "--out", str(tmp_path / "out"), *args])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and name in err[-1] and not (tmp_path / "out").exists()
    if args[0] not in ("--executor", "--frobnicate"):
        assert len(err) == 1 and err[0].startswith("jdyn: ")


def test_max_jobs_and_memory_overrides_let_a_big_sweep_through(tmp_path, capsys):
    text = toml({**BASE, "model": {"hidden": "[100000000]"}, "sweep": {"seed": "[1, 2, 3]"}})
    (tmp_path / "s.toml").write_text(text)
    assert main(["run", "s.toml", "--dry-run", "--max-jobs", "2"]) == 2
    assert "limit of 2" in capsys.readouterr().err
    assert main(["run", "s.toml", "--dry-run", "--max-job-memory", "1e9"]) == 0
    out = capsys.readouterr().out
    assert "3 jobs" in out and "estimated run time" in out


def _out_dirs(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    return {"a file": (tmp_path / "file", "is not a directory"),
            "a dangling symlink": (tmp_path / "dangling", "symbolic link"),
            "under /proc": (Path("/proc/self/jdyn-out"), "cannot create"),
            "a foreign directory": (tmp_path / "foreign", "--resume"),
            "a foreign directory with --resume": (tmp_path / "foreign", "holds no jdyn run")}


@pytest.mark.parametrize("case", ["a file", "a dangling symlink", "under /proc",
                                  "a foreign directory", "a foreign directory with --resume"])
def test_unusable_out_directory(tmp_path, capsys, case):
    out, says = _out_dirs(tmp_path)[case]
    path = tmp_path / "s.toml"
    path.write_text(toml(BASE))
    resume = ["--resume"] if "--resume" in case else []
    assert main(["run", str(path), "--out", str(out), "--jobs", "1", *resume]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and str(out) in err[0]
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in (tmp_path / "foreign").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("args, says", [(["report", "nowhere"], "no such directory"),
                                        (["report", "."], "not a jdyn run directory"),
                                        (["run", "--scheduler", "tcp://x:1", "s.toml"],
                                         "--scheduler is only used with --executor dask")])
def test_bad_report_and_executor_arguments(tmp_path, capsys, args, says):
    (tmp_path / "s.toml").write_text(toml(BASE))
    assert main(args) == 2
    assert says in capsys.readouterr().err


# ------------------------------------------------------------------ run() in Python

RUN_ARGS = [({"jobs": 0}, "--jobs"), ({"jobs": True}, "--jobs"), ({"jobs": 1.5}, "--jobs"),
            ({"job_timeout": 0}, "--job-timeout"), ({"job_timeout": "60"}, "--job-timeout"),
            ({"job_timeout": math.nan}, "--job-timeout"), ({"max_jobs": 0}, "--max-jobs"),
            ({"max_jobs": 2.0}, "--max-jobs"), ({"max_job_memory": -1}, "--max-job-memory"),
            ({"executor": "threads"}, "--executor"),
            ({"job_fn": "no_colon"}, "module:function"),
            ({"job_fn": "no_such_module_xyz:f"}, "cannot import"),
            ({"job_fn": "os:no_such_function"}, "no top-level callable"),
            ({"job_fn": "os.path:sep"}, "no top-level callable"),
            ({"reference_fn": "no_colon"}, "module:function")]


@pytest.mark.parametrize("kwargs, says", RUN_ARGS, ids=[str(k) for k, _ in RUN_ARGS])
def test_bad_run_arguments(tmp_path, kwargs, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        run(loads(toml(BASE)), out_dir=tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_loads_reports_every_problem_at_once():
    text = with_key("model", "hidden", "[]").replace('name = "henon"', 'name = "henn"')
    with pytest.raises(ScenarioError) as exc:
        loads(text, source="mine.toml")
    assert len(exc.value.problems) == 2 and "henon" in str(exc.value)


# ------------------------------------------------------------------ the Python API

def _series(n=300):
    from jdyn.systems import Henon
    return Henon().trajectory(n, rng=0)[:, 0]


def _estimator_case(kwargs):
    from jdyn.estimators import DelayMapEstimator
    return lambda: DelayMapEstimator(**{"max_iter": 2, "hidden": (3,), **kwargs}).fit(_series())


ESTIMATOR_ARGS = [
    ("dim", 0), ("dim", -1), ("dim", 1.5), ("dim", "2"), ("lag", 0), ("lag", 2.5),
    ("hidden", (0,)), ("hidden", (-3,)), ("hidden", ("a",)),
    ("model", "transformer"), ("activation", "relu6"),
    ("regulariser", "ridge"), ("strength", -1.0), ("strength", "autox"),
    ("logdet_target", "a"),
    ("logdet_target", math.nan), ("noise_level", -0.1),
    ("weight_decay", -1.0),
    ("dt", 0.0), ("dt", -0.01), ("method", "sgd9"),
    ("max_iter", 0), ("max_iter", 1.5),
    ("validation_fraction", "x"),
    ("validation_fraction", 0.0), ("validation_fraction", 1.0), ("patience", 0),
    ("rng", "seed"),
]


@pytest.mark.parametrize("name, value", ESTIMATOR_ARGS)
def test_estimator_argument(name, value):
    with pytest.raises((ValueError, TypeError), match=name):
        _estimator_case({name: value})()


MODEL_ARGS = [pytest.param("polynomial", "degree", 0, id="polynomial-degree=0"),
              pytest.param("polynomial", "degree", 2.5, id="polynomial-degree=2.5"),
              pytest.param("mlp", "hidden", (), id="mlp-hidden=()"),
              pytest.param("rbf", "hidden", (0,), id="rbf-hidden=(0,)")]


@pytest.mark.parametrize("model, name, value", MODEL_ARGS)
def test_estimator_model_argument(model, name, value):
    with pytest.raises((ValueError, TypeError), match=name):
        _estimator_case({"model": model, name: value})()


def _fit_input(kind):
    y = _series()
    if kind == "masked":
        return np.ma.masked_array(y, mask=np.arange(y.size) % 7 == 0)
    if kind == "nan":
        y[10] = np.nan
        return y
    if kind == "inf":
        y[10] = np.inf
        return y
    if kind == "2-d":
        return np.column_stack([y, y, y])
    if kind == "strings":
        return np.array(["a"] * 300)
    if kind == "too short":
        return y[:3]
    if kind == "constant":
        return np.ones(300)
    if kind == "irregular pandas":
        pd = pytest.importorskip("pandas")
        t = np.cumsum(np.where(np.arange(300) % 10 == 0, 0.05, 0.01))
        return pd.Series(y, index=t)
    raise AssertionError(kind)


FIT_INPUTS = [("masked", "mask"), ("nan", "series.*NaN"), ("inf", "series.*inf"), ("2-d", "series"),
              ("strings", "series"), ("too short", "series"), ("constant", "series"),
              ("irregular pandas", "irregular")]


@pytest.mark.parametrize("kind, says", FIT_INPUTS, ids=[k for k, _ in FIT_INPUTS])
def test_estimator_fit_input(kind, says):
    from jdyn.estimators import DelayMapEstimator
    with pytest.raises((ValueError, TypeError), match=says):
        DelayMapEstimator(hidden=(3,), max_iter=2, rng=0).fit(_fit_input(kind))


@pytest.fixture(scope="module")
def fitted():
    from jdyn.estimators import DelayMapEstimator
    return DelayMapEstimator(hidden=(3,), max_iter=3, rng=0, regulariser="none").fit(_series())


INVARIANT_ARGS = [("correlation_points", -1), ("correlation_points", 0),
                  ("correlation_points", 1.5), ("n_orbits", 0), ("n_orbits", -1),
                  ("n_orbits", 2.5), ("n_steps", 0), ("n_steps", -5), ("n_steps", "x")]


@pytest.mark.parametrize("name, value", INVARIANT_ARGS, ids=[f"{n}={v!r}" for n, v in INVARIANT_ARGS])
def test_invariants_argument(fitted, name, value):
    with pytest.raises((ValueError, TypeError), match=name):
        fitted.invariants(**{"n_steps": 200, name: value})


PREDICT_ARGS = [("horizon", 0), ("horizon", -1), ("horizon", 1.5)]


@pytest.mark.parametrize("name, value", PREDICT_ARGS, ids=[f"{n}={v!r}" for n, v in PREDICT_ARGS])
def test_prediction_error_argument(fitted, name, value):
    with pytest.raises((ValueError, TypeError), match=name):
        fitted.prediction_error(_series(), **{name: value})


SYSTEM_CASES = [
    pytest.param("henon", {"x0": [0.1, 0.1, 0.1]}, "x0", id="henon-x0-3"),
    ("henon", {"x0": "a"}, "x0"),
    ("henon", {"x0": [np.nan, 0.0]}, "x0"), ("henon", {"a": "x"}, "a"),
    ("henon", {"c": 1.0}, "c"), pytest.param("lorenz", {"x0": [1.0]}, "x0", id="lorenz-x0-1"),
    ("lorenz", {"sigma": "ten"}, "sigma"), ("nosuch", {}, "nosuch"),
    ("logistic", {"r": np.inf}, "r"), ("ikeda", {"u": "x"}, "u"),
]


@pytest.mark.parametrize("name, params, says", SYSTEM_CASES)
def test_get_system_argument(name, params, says):
    from jdyn.systems import get_system
    with pytest.raises((ValueError, TypeError), match=says):
        get_system(name, **params)


TRAJECTORY_ARGS = [({"n": 0}, "n"), ({"n": -1}, "n"), ({"n": 2.5}, "n"),
                   ({"n": 10, "transient": -1}, "transient"),
                   ({"n": 10, "dynamical_noise": -0.1}, "dynamical_noise")]


@pytest.mark.parametrize("kwargs, says", TRAJECTORY_ARGS, ids=[str(k) for k, _ in TRAJECTORY_ARGS])
def test_trajectory_argument(kwargs, says):
    from jdyn.systems import Henon
    n = kwargs.pop("n")
    with pytest.raises((ValueError, TypeError), match=says):
        Henon().trajectory(n, rng=0, **kwargs)


def _points(kind):
    rng = np.random.default_rng(0)
    if kind == "one point":
        return np.zeros((1, 2))
    if kind == "zero spread":
        return np.ones((500, 2))
    if kind == "half duplicates":
        pts = rng.standard_normal((1000, 2))
        pts[::2] = pts[0]
        return pts
    if kind == "huge values":
        return rng.standard_normal((500, 2)) * 1e300
    if kind == "nan":
        pts = rng.standard_normal((500, 2))
        pts[3, 1] = np.nan
        return pts
    if kind == "3-d array":
        return rng.standard_normal((10, 10, 2))
    raise AssertionError(kind)


POINT_CASES = [("one point", "points"), ("zero spread", "points.*(constant|spread|distinct)"),
               ("half duplicates", "repeated states"),
               ("nan", "points.*NaN"), ("3-d array", "points")]


@pytest.mark.parametrize("kind, says", POINT_CASES)
def test_correlation_dim_degenerate_points(kind, says):
    from jdyn.analysis import correlation_dim
    with pytest.raises((ValueError, TypeError), match=says):
        correlation_dim(_points(kind), rng=0)


def test_correlation_dim_of_huge_values_is_that_of_the_same_points_rescaled():
    """Squared distances of 1e300-sized points overflow; the answer must not change."""
    from jdyn.analysis import correlation_dim
    points = _points("huge values")
    huge, tame = correlation_dim(points, rng=0), correlation_dim(points * 2.0 ** -1000, rng=0)
    # the same counts; only the logs of the radii differ, by rounding
    assert np.isfinite(huge.dimension) and huge.dimension == pytest.approx(tame.dimension, rel=1e-12)


CORR_ARGS = [({"theiler_window": -1}, "theiler_window"), ({"n_radii": 1}, "n_radii"),
             ({"max_points": 0}, "max_points")]


@pytest.mark.parametrize("kwargs, says", CORR_ARGS, ids=[str(k) for k, _ in CORR_ARGS])
def test_correlation_dim_argument(kwargs, says):
    from jdyn.analysis import correlation_dim
    with pytest.raises((ValueError, TypeError), match=says):
        correlation_dim(np.random.default_rng(0).standard_normal((300, 2)), rng=0, **kwargs)


LYAP_ARGS = [({"n_steps": 0}, "n_steps"), ({"n_steps": -10}, "n_steps"),
             ({"n_steps": 2.5}, "n_steps")]


@pytest.mark.parametrize("kwargs, says", LYAP_ARGS, ids=[str(k) for k, _ in LYAP_ARGS])
def test_lyapunov_spectrum_argument(kwargs, says):
    from jdyn.analysis import lyapunov_spectrum
    from jdyn.systems import Henon
    n = kwargs.pop("n_steps")
    with pytest.raises((ValueError, TypeError), match=says):
        lyapunov_spectrum(Henon(), n, rng=0, **kwargs)


EMBED_ARGS = [({"dim": 0}, "dim"), ({"dim": 1.5}, "dim"), ({"lag": 0}, "lag"),
              ({"lag": -1}, "lag"), ({"dim": 400}, "dim")]


@pytest.mark.parametrize("kwargs, says", EMBED_ARGS, ids=[str(k) for k, _ in EMBED_ARGS])
def test_delay_embed_argument(kwargs, says):
    from jdyn.embedding import delay_embed
    args = {"dim": 2, "lag": 1, **kwargs}
    with pytest.raises((ValueError, TypeError), match=says):
        delay_embed(_series(), args["dim"], args["lag"])
