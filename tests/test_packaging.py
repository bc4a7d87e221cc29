"""The wheel is the product: what the packages read at run time is package data, and the
agent's package never loads the bench (practice sites, suites, test helpers) on import."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "operator"
NOT_DATA = {".py", ".pyc", ".md"}  # code, and the READMEs that are for people reading the repository


def _data_files(package: str) -> set[Path]:
    base = SOURCE / package
    return {p.relative_to(base) for p in base.rglob("*")
            if p.is_file() and p.suffix not in NOT_DATA and "__pycache__" not in p.parts}


@pytest.mark.parametrize("package", ["operator_agent", "operator_bench"])
def test_every_data_file_is_package_data(package: str) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert package in config["packages"]["find"]["include"]
    base = SOURCE / package
    shipped = {p.relative_to(base) for pattern in config["package-data"][package]
               for p in base.glob(pattern) if p.is_file()}
    assert _data_files(package) - shipped == set(), "add these to [tool.setuptools.package-data]"


def test_the_agent_never_imports_the_bench_when_loaded() -> None:
    # In a fresh interpreter: every module of the agent imported, the CLI's parser built.
    code = """
import importlib, pkgutil, sys
import operator_agent
for m in pkgutil.walk_packages(operator_agent.__path__, "operator_agent."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
loaded = sorted(k for k in sys.modules if k.startswith("operator_bench"))
from operator_agent.cli import build_parser
build_parser()  # registers `operator sites` by module name: only that light module may load
cli = sorted(k for k in sys.modules if k.startswith("operator_bench"))
print(loaded, cli)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] ['operator_bench', 'operator_bench.sites', 'operator_bench.sites.serve']"


def test_the_bench_reads_its_files_from_its_package() -> None:
    from operator_agent.evals.suites import available, suites_dir
    from operator_bench.sites.common import sites_dir

    assert suites_dir() == SOURCE / "operator_bench" / "suites"
    assert available() == ["flights", "miniwob", "shop"]
    assert sites_dir() == SOURCE / "operator_bench" / "sites" / "web"
    assert not (ROOT / "evals").exists()  # the bench's files are nowhere else
