"""The package's public names (listed in simplest_node/__init__.py) exist and are listed once."""

import importlib
import pkgutil

import simplest_node as sn


def test_every_listed_name_exists():
    missing = [name for name in sn.__all__ if not hasattr(sn, name)]
    assert not missing


def test_no_name_listed_twice():
    assert len(sn.__all__) == len(set(sn.__all__))


def test_every_listed_name_is_in_the_docstring():
    absent = [name for name in sn.__all__ if f"``{name}``" not in sn.__doc__]
    assert not absent, "list each public name in the package docstring too"


def test_every_module_imports():
    for module in pkgutil.iter_modules(sn.__path__):
        importlib.import_module(f"simplest_node.{module.name}")
