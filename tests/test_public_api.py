"""The package's public names: each module lists its own in ``__all__``, the package gathers them, once each."""

import importlib
import pkgutil
import subprocess
import sys

import simplest_node as sn

# every module, subpackages' modules named ``package.module`` (the packages themselves hold no names)
SUBMODULES = [
    m.name.removeprefix("simplest_node.") for m in pkgutil.walk_packages(sn.__path__, "simplest_node.") if not m.ispkg
]


def test_every_listed_name_exists():
    missing = [name for name in sn.__all__ if not hasattr(sn, name)]
    assert not missing


def test_no_name_listed_twice():
    assert len(sn.__all__) == len(set(sn.__all__))


def test_every_module_is_gathered_or_set_apart_and_named_in_the_docstring():
    public = [name for name in SUBMODULES if not name.split(".")[-1].startswith("_")]
    assert sorted(set(public) - set(sn.SEPARATE_MODULES) - set(sn.INNER_MODULES)) == sorted(sn.MODULES)
    unnamed = [name for name in sn.MODULES + sn.SEPARATE_MODULES + sn.INNER_MODULES if f"``{name}``" not in sn.__doc__]
    assert not unnamed, "name each module in the package docstring"


def test_every_modules_all_is_in_the_package():
    for name in sn.MODULES:
        module = importlib.import_module(f"simplest_node.{name}")
        assert module.__all__, name
        for public in module.__all__:
            assert getattr(sn, public) is getattr(module, public), (name, public)
        assert set(module.__all__) <= set(sn.__all__), name


def test_private_names_are_not_exported():
    assert not [name for name in sn.__all__ if name.startswith("_")]


def test_every_module_imports():
    for name in SUBMODULES:
        importlib.import_module(f"simplest_node.{name}")


def test_the_package_does_not_import_jax():
    # in a fresh interpreter: this one may have imported the separate modules already
    code = (
        "import sys, simplest_node as sn; print(sorted(m for m in sys.modules if m.split('.')[0] == 'jax'),"
        " [m for m in sn.SEPARATE_MODULES if hasattr(sn, m)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []"
    assert not [name for name in sn.SEPARATE_MODULES if name in sn.__all__]


def test_names_in_use_stay_public():
    # a sample the chapters and tests import as sn.NAME
    for name in ("LinearProblem", "BUTCHER_TABLEAUX", "STABILITY_POLYNOMIALS", "ORDERS", "train", "glue", "scrubber"):
        assert name in sn.__all__, name


def test_version_is_the_installed_metadata():
    assert isinstance(sn.__version__, str) and sn.__version__
