"""The dysts catalogue adapter and its bench table (dysts is optional: those tests skip)."""

import math
import subprocess
import sys

import numpy as np
import pytest

from jdyn.bench.catalogue import format_summary, format_table, summarise
from jdyn.systems.catalogue import _resolve, close_matches

FAKE = {"flows": ["Lorenz", "Lorenz84", "Rossler", "Aizawa"], "maps": ["Henon", "Tent"]}


def _row(name, lam1, dysts_lam1, ky=2.05, dysts_ky=2.06, exact_sum=math.nan, total=-13.0):
    return {"name": name, "dim": 3, "lam1": lam1, "lam1_se": 0.01, "ky": ky, "d2": 2.0,
            "d2_se": 0.05, "sum": total, "sum_se": 0.02, "exact_sum": exact_sum,
            "dysts_sum": -13.5,
            "dysts_lam1": dysts_lam1, "dysts_lam1_max": lam1, "dysts_ky": dysts_ky,
            "dysts_d2": 1.9, "jacobian": "numerical", "status": "ok", "seconds": 3.0}


# -- without dysts ---------------------------------------------------------------------
def test_resolve_is_case_insensitive_and_finds_maps():
    assert _resolve("lorenz", FAKE) == ("flows", "Lorenz")
    assert _resolve(" HENON ", FAKE) == ("maps", "Henon")


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"'Lorentz'.*close matches: Lorenz, Lorenz84"):
        _resolve("Lorentz", FAKE)
    with pytest.raises(ValueError, match="no close matches"):
        _resolve("Qwxyz", FAKE)
    with pytest.raises(ValueError, match="name must be"):
        _resolve(3, FAKE)


def test_close_matches_keeps_the_catalogues_spelling():
    assert close_matches("ROSLER", FAKE["flows"]) == ["Rossler"]


def test_summary_counts_agreement_and_identities():
    rows = [_row("A", 1.00, 1.05), _row("B", 1.00, 1.50, ky=2.3),
            _row("C", 1.00, 0.95, exact_sum=-13.01), _row("D", 1.00, 1.0, exact_sum=-13.4),
            {"name": "E", "status": "timeout (60 s)", "seconds": 60.0}]
    s = summarise(rows)
    assert (s["n"], s["ok"], s["reliable"], s["lam1_10pct"]) == (5, 4, 4, 3)
    assert (s["ky_comparable"], s["ky_01"], s["sum_checked"], s["sum_ok"]) == (4, 3, 2, 1)
    assert s["dysts_sum_off"] == 1  # dysts' -13.5 misses C's -13.01, not D's -13.4
    assert "3 agree" in format_summary(s)


def test_table_has_one_row_per_system_and_marks_failures():
    rows = [_row("A", 0.9, 1.0, exact_sum=-13.0), {"name": "E", "status": "timeout (60 s)"}]
    md = format_table(rows).splitlines()
    assert len(md) == 4 and md[2].startswith("| A | 3 | 0.900 ± 0.010 | 1.000 |")
    assert "timeout (60 s)" in md[3] and "| +0 (0.0 se) | -0.5 |" in md[2]
    plain = format_table(rows, markdown=False).splitlines()
    assert len(plain) == 3 and plain[1].split()[0] == "A"


def test_import_jdyn_does_not_import_dysts():
    code = "import sys, jdyn, jdyn.systems; print('dysts' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# -- with dysts ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalogue():
    pytest.importorskip("dysts")
    from jdyn.systems import from_dysts
    return from_dysts


def test_dysts_lorenz_spectrum_matches_the_builtin(catalogue):
    from jdyn.analysis import lyapunov_spectrum
    from jdyn.systems import Lorenz
    system = catalogue("Lorenz")
    assert system.is_flow and system.params == {"beta": 2.667, "rho": 28, "sigma": 10}
    assert system.jacobian_source == "dysts" and system.dt > 0 and system.period > 0
    assert system.reference["lyapunov_sum"] == pytest.approx(-13.667, abs=1e-9)
    assert system.reference["source"].startswith("dysts")
    x = system.x0
    np.testing.assert_allclose(system.rhs(x), Lorenz(beta=2.667).rhs(x), rtol=1e-14)
    ours = lyapunov_spectrum(system, 400, n_orbits=4, rng=1)
    builtin = lyapunov_spectrum(Lorenz(beta=2.667), 400, n_orbits=4, rng=2)
    se = np.hypot(ours.stderr, builtin.stderr)
    assert np.all(np.abs(ours.exponents - builtin.exponents) <= 4 * se + 1e-3)


def test_dysts_map_gets_a_numerical_jacobian(catalogue):
    from jdyn.analysis import lyapunov_spectrum
    henon = catalogue("henon")
    assert not henon.is_flow and henon.jacobian_source == "numerical"
    x = henon.x0
    np.testing.assert_allclose(henon.jacobian(x), [[-2 * 1.4 * x[0], 1.0], [0.3, 0.0]],
                               rtol=1e-8, atol=1e-10)
    res = lyapunov_spectrum(henon, 20_000, rng=0)
    assert res.exponents.sum() == pytest.approx(math.log(0.3), abs=1e-9)
    assert res.exponents[0] == pytest.approx(0.4192, abs=5 * res.stderr[0] + 1e-3)


def test_dysts_parameters_override_and_drop_published_values(catalogue):
    system = catalogue("Lorenz", rho=30.0)
    assert system.params["rho"] == 30.0 and system.params["sigma"] == 10
    assert set(system.reference) == {"lyapunov_sum"}
    with pytest.raises(ValueError, match=r"'foo' is not a parameter of dysts system 'Lorenz'"):
        catalogue("Lorenz", foo=1.0)


def test_dysts_unknown_name_lists_close_matches(catalogue):
    with pytest.raises(ValueError, match=r"'Lorentz'.*close matches: Lorenz"):
        catalogue("Lorentz")


def test_piecewise_linear_divergence_is_not_taken_as_constant(catalogue):
    assert "lyapunov_sum" not in catalogue("Chua").reference


def test_bench_rejects_bad_sizes_before_any_work(capsys):
    from jdyn.cli import main
    assert main(["bench", "catalogue", "--n-steps", "5"]) == 2
    assert "--n-steps must be >= 10" in capsys.readouterr().err


def test_bench_unknown_name_lists_close_matches(catalogue, capsys):
    from jdyn.cli import main
    assert main(["bench", "catalogue", "--names", "Lorentz"]) == 2
    assert "'Lorentz' is not a dysts flow (close matches: Lorenz" in capsys.readouterr().err
