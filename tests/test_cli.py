"""The jdyn command: systems listing, version, bench train smoke run, exit codes."""

from jdyn.cli import main


def test_systems_lists_reference_values(capsys):
    assert main(["systems"]) == 0
    out = capsys.readouterr().out
    assert "henon (map, dim 2)" in out and "0.41922" in out and "lorenz (flow, dim 3)" in out


def test_unknown_system_is_a_one_line_error(capsys):
    assert main(["systems", "duffing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "duffing" in err[0] and "henon" in err[0]


def test_version_and_no_command(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip()
    assert main([]) == 2


def test_bench_train_quick_prints_its_table(capsys):
    assert main(["bench", "train", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "hidden" in out


def test_bench_train_rejects_bad_hidden(capsys):
    assert main(["bench", "train", "--hidden", "ten"]) == 2
    assert "--hidden" in capsys.readouterr().err
