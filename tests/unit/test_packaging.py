"""spanledger installs as one import package: the built wheel puts nothing but `spanledger` at
the top level of site-packages, and works from there (its CLI, its pages' files)."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_lists_every_folder_of_src_that_holds_code():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"spanledger", *("spanledger." + ".".join(p.parent.relative_to(ROOT / "src").parts)
                             for p in (ROOT / "src").glob("*/**/__init__.py"))}
    assert listed == found


def test_the_wheel_installs_under_spanledger_only_and_runs_from_a_fresh_venv(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    wheel, = (tmp_path / "dist").glob("spanledger-*.whl")
    top = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in top if not t.endswith(".dist-info")} == {"spanledger"}

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True)
    site, = venv.glob("lib/python*/site-packages")
    # The dependencies come from the test's own environment, listed after the wheel's files;
    # that environment's editable spanledger is not activated (its finder is a .pth import).
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    (site / "deps.pth").write_text(deps + "\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    probe = run(str(venv / "bin" / "python"), "-c",
                "import importlib.resources as r, spanledger.api.app as a; "
                "print(a.__file__); print(r.files('spanledger.api').joinpath('studio').is_dir())")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [str(site / "spanledger" / "api" / "app.py"), "True"]
    for name in ("api", "domain", "jobs", "ner", "projections", "bootstrap"):
        assert run(str(venv / "bin" / "python"), "-c", f"import {name}").returncode != 0, name
    cli = run(str(venv / "bin" / "spanledger"), "--help")
    assert cli.returncode == 0 and "serve" in cli.stdout, cli.stderr
