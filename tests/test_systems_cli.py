"""``jdyn systems``: reference values for every built-in, and those values checked
against jdyn's own measurement (slow)."""

import numpy as np
import pytest

from jdyn.analysis.lyapunov import lyapunov_spectrum
from jdyn.cli import main
from jdyn.systems import get_system, list_systems


def test_every_builtin_shows_its_reference_exponents(capsys):
    assert main(["systems"]) == 0
    out = capsys.readouterr().out
    for name, info in list_systems().items():
        block = out[out.index(f"{name} ({info['kind']}"):]
        block = block[:block.find("\n", block.find("source:"))]
        assert "Lyapunov exponents: " in block and "no literature value" not in block, name
        assert "Kaplan-Yorke dimension: " in block and "source: " in block, name
    assert "``" not in out
    assert "ikeda" in out and "0.5076, -0.7183 (nats per iteration)" in out
    assert "rossler" in out and "0.0714, 0, -5.3943 (nats per unit time)" in out


@pytest.mark.slow
def test_ikeda_literature_values_agree_with_a_measurement():
    """Sprott's last digit is a best estimate: agreement within 3 stderr + 1e-3."""
    system = get_system("ikeda")
    res = lyapunov_spectrum(system, 100_000, rng=0)
    ref = np.array(system.reference["lyapunov_exponents"])
    assert np.all(np.abs(res.exponents - ref) <= 3 * res.stderr + 1e-3), res.exponents
    assert sum(ref) == pytest.approx(system.reference["lyapunov_sum"], abs=1e-4)


@pytest.mark.slow
def test_rossler_literature_values_agree_with_a_measurement():
    """lambda1 against jdyn's spectrum (3 stderr + 1e-3), and the sum of the attached
    exponents against the exact identity: the time average of div f = a + x - c along
    an orbit (its error from 20 blocks)."""
    system = get_system("rossler")
    ref = np.array(system.reference["lyapunov_exponents"])
    res = lyapunov_spectrum(system, 20_000, dt=0.05, rng=0)
    assert abs(res.exponents[0] - ref[0]) <= 3 * res.stderr[0] + 1e-3, res.exponents
    x = system.trajectory(200_000, dt=0.05, transient=100, rng=0)[:, 0]
    div = system.a - system.c + x.reshape(20, -1).mean(axis=1)
    assert abs(ref.sum() - div.mean()) <= 3 * div.std(ddof=1) / np.sqrt(20)
