"""jdyn.analyse: identification, uncertainty, members, the dataset contract, bad input."""

import numpy as np
import pytest

import jdyn
from jdyn.pipeline import Member, identify_exponents
from jdyn.pipeline.dataset import VARIABLES
from jdyn.systems import Henon, add_observational_noise

FAST = dict(n_members=3, max_iter=60, hidden=(6,), n_steps=400, n_orbits=2, jobs=1)


def _member(exponents, dim=None, status="ok", index=0):
    exponents = np.asarray(exponents, float)
    nan = np.nan
    return Member(index=index, dim=dim or exponents.size, role="bootstrap", seed=index,
                  status=status, reason="", exponents=exponents,
                  stderr=np.full(exponents.size, 0.01), exponents_data=exponents,
                  correlation_dim=nan, correlation_dim_stderr=nan, noise_level=0.05,
                  regulariser="eiv", strength=10.0, one_step_error=0.1, seconds=0.0)


def test_identification_flags_wandering_exponents_and_keeps_stable_ones():
    gen = np.random.default_rng(0)
    main = [_member([0.42 + 0.01 * gen.standard_normal(), -1.62 + 0.02 * gen.standard_normal(),
                     -3.0 + 1.5 * gen.standard_normal()], index=i) for i in range(6)]
    main = [_member(np.sort(m.exponents)[::-1], index=m.index) for m in main]
    nxt = [_member(np.sort([0.42, -1.62, -2.0 + gen.standard_normal(),
                            -5.0 + gen.standard_normal()])[::-1], index=i) for i in range(6)]
    ident = identify_exponents(main, nxt)
    assert ident.spurious.tolist() == [False, False, True]
    assert "matched in 6 of 6" in ident.reason[0] and "too large" in ident.reason[2]


def test_identification_needs_a_partner_at_the_next_dimension():
    main = [_member([0.9, -0.5 + 0.001 * i]) for i in range(4)]
    nxt = [_member([0.9, -3.0, -4.0]) for _ in range(4)]
    ident = identify_exponents(main, nxt)
    assert ident.spurious.tolist() == [False, True]
    assert "matched in 0 of 4 members at dim 3" in ident.reason[1]


def test_a_larger_embedding_is_identified_against_the_smallest_one():
    main = [_member([0.42, -0.1 + 0.01 * i, -0.76, -1.6]) for i in range(4)]
    smallest = [_member([0.41, -1.62 + 0.01 * i]) for i in range(4)]
    ident = identify_exponents(main, smallest)
    assert ident.spurious.tolist() == [False, True, True, False]
    assert "matched in 4 of 4 members at dim 2" in ident.reason[3]
    assert "matched in 0 of 4" in ident.reason[1]


def test_reference_members_are_matched_one_by_one():
    """The spurious exponent of the reference falls above λ2 in some members and below
    it in others (as on noisy Hénon at dim 3); each member still has a partner for λ2."""
    main = [_member([0.42, -1.62 + 0.05 * i]) for i in range(4)]
    reference = [_member([0.42, -0.4, -1.6]), _member([0.42, -1.0, -1.65]),
                 _member([0.42, -1.6, -2.5]), _member([0.41, -1.58, -3.0])]
    ident = identify_exponents(main, reference)
    assert ident.spurious.tolist() == [False, False]


def test_unusable_members_are_left_out_of_the_spectrum():
    main = [_member([0.4, -1.6]) for _ in range(3)] + [_member([np.nan, np.nan],
                                                               status="diverged")]
    ident = identify_exponents(main)
    np.testing.assert_allclose(ident.center, [0.4, -1.6])
    assert not main[3].usable


@pytest.fixture(scope="module")
def noisy_henon():
    x = Henon().trajectory(900, rng=0)[300:, 0]
    return add_observational_noise(x, 0.05, rng=1)


@pytest.fixture(scope="module")
def analysis(noisy_henon):
    return jdyn.analyse(noisy_henon, dim=2, lag=1, **FAST)


def test_analysis_reports_identified_spectrum_members_and_choices(analysis):
    a = analysis
    assert a.all_exponents.shape == (2,) and a.spurious.shape == (2,)
    assert a.exponents.size == (~a.spurious).sum()
    assert len(a.members) == 3 and len(a.references) == 3
    assert all(m.dim == a.embedding.reference_dim for m in a.references)
    assert a.method["regulariser"] == "eiv"          # 5% noise calls for it
    assert 0.03 < a.noise_level < 0.08
    assert np.all(a.exponents_stderr > 0)
    usable = np.array([m.exponents for m in a.members if m.usable])
    # σ is never smaller than the spread across the members it summarises
    assert np.all(a.all_exponents_stderr >= usable.std(axis=0, ddof=1) - 1e-12)
    text = a.summary()
    assert "identified" in text and "dim 2, lag 1" in text and "members:" in text


def test_dataset_follows_the_declared_contract(analysis, tmp_path):
    ds = analysis.to_dataset()
    for name, (dims, long_name, _) in VARIABLES.items():
        assert ds[name].dims == dims and ds[name].attrs["long_name"] == long_name
    assert ds.attrs["Conventions"].startswith("CF")
    assert ds["exponent_value"].attrs["units"] == "1/sample"
    path = tmp_path / "a.nc"
    ds.to_netcdf(path)
    import xarray as xr
    with xr.open_dataset(path) as back:
        np.testing.assert_allclose(back["exponent_value"], analysis.all_exponents)


def test_plot_draws_three_panels(analysis, tmp_path):
    fig = analysis.plot(tmp_path / "a.png")
    assert len(fig.axes) == 3 and (tmp_path / "a.png").stat().st_size > 10_000


def test_same_seed_same_answer(noisy_henon, analysis):
    again = jdyn.analyse(noisy_henon, dim=2, lag=1, **FAST)
    np.testing.assert_array_equal(again.all_exponents, analysis.all_exponents)


@pytest.mark.parametrize("call, match", [
    (lambda y: jdyn.analyse(y[:50]), "series has 50 samples"),
    (lambda y: jdyn.analyse(np.ones(500)), "constant"),
    (lambda y: jdyn.analyse(np.where(np.arange(y.size) == 7, np.nan, y)), "series"),
    (lambda y: jdyn.analyse(y, n_members=2), "n_members"),
    (lambda y: jdyn.analyse(y, hiden=(3,)), "unknown estimator option"),
    (lambda y: jdyn.analyse(y, regulariser="magic"), "regulariser must be one of"),
    (lambda y: jdyn.analyse(y, dim=0), "dim"),
    (lambda y: jdyn.analyse(y, rng=0, lag=1, dim=2, jobs=0), "jobs"),
])
def test_bad_input_is_refused_before_any_fit(noisy_henon, call, match, monkeypatch):
    from jdyn.pipeline import workflow as module

    def no_fit(*args, **kwargs):
        raise AssertionError("a fit started before the input was checked")
    monkeypatch.setattr(module, "fit_one", no_fit)
    monkeypatch.setattr(module, "run_members", no_fit)
    with pytest.raises(ValueError, match=match):
        call(noisy_henon)


def _inv(status, data_l1, free_l1, se=0.01):
    from types import SimpleNamespace as NS
    spec = lambda l1: NS(exponents=np.array([l1, -1.6]), stderr=np.array([se, se]))  # noqa: E731
    return NS(free_run_status=status, free_run_reason="why", lyapunov_data=spec(data_l1),
              lyapunov_free=spec(free_l1))


def test_a_free_run_on_another_attractor_makes_the_member_unusable():
    from jdyn.pipeline.members import _check_attractor
    assert _check_attractor(_inv("ok", 0.417, 0.41)) == ("ok", "why")
    status, reason = _check_attractor(_inv("ok", 0.417, 0.181))   # measured: noisy Hénon, dim 3
    assert status == "off_attractor" and "0.181" in reason and "0.417" in reason
    assert _check_attractor(_inv("periodic", 0.417, 0.0))[0] == "periodic"
    assert not _member([0.4, -1.6], status="off_attractor").usable


def test_a_true_exponent_estimated_less_well_in_the_larger_embedding_is_kept():
    """Members measured on one Hénon x series at 5% noise: λ2 reads −1.17 … −1.43 at
    dim 3 against −1.57 … −1.78 at dim 2."""
    main = [_member(e) for e in ([0.397, -1.569], [0.419, -1.583], [0.413, -1.714],
                                 [0.413, -1.618], [0.414, -1.750], [0.413, -1.781])]
    reference = [_member(e) for e in ([0.429, -0.874, -1.169], [0.415, -0.831, -1.316],
                                      [0.427, -0.789, -1.322], [0.418, -0.919, -1.315],
                                      [0.404, -0.815, -1.256], [0.422, -0.886, -1.431])]
    assert identify_exponents(main, reference).spurious.tolist() == [False, False]


def test_with_no_usable_member_the_first_fits_data_spectrum_is_reported(noisy_henon,
                                                                        monkeypatch):
    """Every free run escaping: the along-data spectrum of the first fit, all flagged
    spurious, no σ, and a warning that says so."""
    from jdyn.pipeline import ensemble
    real = ensemble.fit_member

    def escaping(config):
        out = real(config)
        nan = np.full(config["dim"], np.nan)
        return dict(out, status="diverged", reason="forced in the test", exponents=nan,
                    stderr=nan)
    monkeypatch.setattr(ensemble, "fit_member", escaping)
    a = jdyn.analyse(noisy_henon, dim=2, lag=1, **FAST)
    assert np.all(np.isfinite(a.all_exponents)) and a.spurious.all()
    assert a.exponents.size == 0 and np.all(np.isnan(a.all_exponents_stderr))
    assert any("no member's free run" in w for w in a.warnings)
    assert all(m.status == "diverged" and not m.usable for m in a.members)


def test_a_flow_without_a_zero_exponent_is_warned_about():
    from jdyn.pipeline.workflow import _zero_exponent_check
    (note,) = _zero_exponent_check(np.array([0.98, -0.31, -8.5]), np.array([0.06, 0.06, 0.9]))
    assert "none of the identified exponents is within 2σ" in note and "-0.31" in note
    assert _zero_exponent_check(np.array([0.9, -0.05, -14.0]), np.array([0.05, 0.03, 1.0])) == []


def test_identification_refuses_empty_or_mixed_ensembles():
    with pytest.raises(ValueError, match="main must be a non-empty list of Member"):
        identify_exponents([])
    with pytest.raises(ValueError, match="reference mixes embedding dimensions"):
        identify_exponents([_member([0.4, -1.6])], [_member([0.4, -1.6]),
                                                     _member([0.4, -1.0, -1.6])])
