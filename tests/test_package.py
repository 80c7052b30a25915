"""The top-level package: every public name resolves, and importing it stays light."""

import subprocess
import sys

import jdyn


def test_every_public_name_resolves():
    for name in jdyn.__all__:
        assert getattr(jdyn, name) is not None, name
    assert callable(jdyn.denoise) and callable(jdyn.analyse)
    assert set(jdyn.__all__) <= set(dir(jdyn))


def test_an_unknown_name_is_an_attribute_error():
    try:
        jdyn.no_such_thing
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("jdyn.no_such_thing resolved")


def test_import_loads_no_subpackage_and_no_scipy():
    code = ("import sys, jdyn; loaded = [m for m in sys.modules if m.startswith(('scipy', 'jdyn.'))];"
            "print(loaded)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_function_survives_importing_its_package():
    code = ("import jdyn.noise_reduction, jdyn; from jdyn.noise_reduction import denoise;"
            "assert jdyn.denoise is denoise")
    subprocess.run([sys.executable, "-c", code], check=True)
