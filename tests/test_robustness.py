"""Every public callable refuses bad input cleanly, bounds its work and never returns a silent NaN.

Each callable in ``simplest_node.__all__`` (and each public method worth calling on its own) is
registered in ``robustness_cases_*.py`` with one or more *valid* calls. From each valid call the
test derives its variants with hypothesis: one argument at a time is replaced by a value from a pool
of bad and extreme inputs for its kind (non-finite, complex, bool, None, strings, wrong shapes,
empty and ragged arrays, huge counts, negative seeds, ...). Every variant must either

* raise ``ValueError`` or ``TypeError`` (whose message names the argument), or
* return without any warning, with no NaN anywhere in its result, within ``BUDGET`` seconds.

Anything else fails: another exception type, a leaked warning, a NaN, or a call that runs too long
(the work limit ``_checks.MAX_WORK`` must refuse a huge request before work starts).
"""

import dataclasses
import inspect
import time
import warnings

import matplotlib.pyplot
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simplest_node as sn
from robustness import Case, Exempt
from robustness_cases_a import CASES as CASES_A
from robustness_cases_b import CASES as CASES_B
from robustness_cases_c import CASES as CASES_C

BUDGET = 5.0  # seconds one call may take; valid registered calls are chosen to take far less
CASES = {**CASES_A, **CASES_B, **CASES_C}


HUGE = 10**12
POOLS = {
    "float": [np.nan, np.inf, -np.inf, None, "1.0", True, 1 + 1j, 1e308, -1e308, 0.0, -1.0, 1e-300, [1.0]],
    "int": [-1, 0, HUGE, 2.5, None, True, "3", np.nan, [3]],
    "seed": [-1, 3.5, None, True, "0", 2**70],
    "array": [
        [],
        [np.nan],
        [np.inf],
        [[1.0], [1.0, 2.0]],
        ["a"],
        None,
        np.array([1 + 1j]),
        [1e308],
        [-1e308],
        "abc",
        3.0,
        [True, False],
    ],
    "str": ["no-such-choice", None, 3, [], ["euler"]],
    "object": [None, 3, "x", object()],
    "bool": [None, "yes", 2, np.nan],
}


def kind_of(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "array"
    return "object"


def nan_inside(result, depth=0):
    """True if ``result`` holds a NaN: in a float, an array, or any field of a record it returns."""
    if depth > 4 or result is None:
        return False
    if isinstance(result, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isnan(result))
    if isinstance(result, np.ndarray):
        return result.dtype.kind in "fc" and bool(np.isnan(result).any())
    if isinstance(result, (list, tuple)):
        return any(nan_inside(item, depth + 1) for item in result[:1000])
    if isinstance(result, dict):
        return any(nan_inside(item, depth + 1) for item in list(result.values())[:1000])
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return any(nan_inside(getattr(result, f.name), depth + 1) for f in dataclasses.fields(result))
    return False


REFUSED = object()


def call(fn, kwargs):
    """Run one call with warnings as errors; return (result or REFUSED, seconds). A ValueError or
    TypeError is a clean refusal; any other exception propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start = time.perf_counter()
        try:
            result = fn(**kwargs)
        except (ValueError, TypeError):
            result = REFUSED
        finally:
            matplotlib.pyplot.close("all")
        return result, time.perf_counter() - start


def public_callables():
    names = []
    for name in sn.__all__:
        obj = getattr(sn, name)
        if callable(obj):
            names.append(name)
    return names


def test_every_public_callable_is_registered():
    missing = [name for name in public_callables() if name not in CASES]
    assert not missing, f"register these in tests/robustness_cases_*.py: {missing}"
    for name, case in CASES.items():
        assert isinstance(case, (Case, Exempt, list)), name
        if isinstance(case, Exempt):
            assert case.reason.strip(), f"{name}: say why it is exempt"


def cases():
    for name, entry in sorted(CASES.items()):
        for i, case in enumerate(entry if isinstance(entry, list) else [entry]):
            if isinstance(case, Case):
                yield pytest.param(case, id=f"{name}[{i}]")


@pytest.mark.parametrize("case", list(cases()))
def test_valid_call_is_clean(case):
    fn, kwargs = case.make()
    result, seconds = call(fn, kwargs)
    assert result is not REFUSED, "the registered valid call was refused"
    assert not nan_inside(result), "a NaN in the result of a valid call"
    assert seconds < BUDGET


@pytest.mark.parametrize("case", list(cases()))
def test_bad_and_extreme_arguments_are_refused_or_handled(case):
    fn, kwargs = case.make()
    if not kwargs:
        return
    names = sorted(kwargs)

    @settings(
        max_examples=case.examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        st.sampled_from(names).flatmap(
            lambda n: st.tuples(st.just(n), st.sampled_from(POOLS[case.kinds.get(n, kind_of(kwargs[n]))]))
        )
    )
    def variant(substitution):
        name, bad = substitution
        fn, kwargs = case.make()
        kwargs[name] = bad
        try:
            result, seconds = call(fn, kwargs)
        except Exception as err:  # noqa: BLE001 - the point of the test
            raise AssertionError(f"{name}={bad!r:.60}: {type(err).__name__}: {err}") from err
        assert result is REFUSED or not nan_inside(result), f"{name}={bad!r:.60} returned a NaN"
        assert seconds < BUDGET, f"{name}={bad!r:.60} took {seconds:.1f} s (bound the work before it starts)"

    variant()


def test_the_harness_catches_what_it_should():
    def silent_nan(x):
        return float(x) * np.nan

    def raw_error(x):
        return [1][int(x)]

    def leaky(x):
        return np.float64(x) * 1e308 * 10

    assert nan_inside(silent_nan(1.0)) and not nan_inside(np.array([np.inf]))
    with pytest.raises(IndexError):
        call(raw_error, {"x": 3.0})
    with pytest.raises(RuntimeWarning):
        call(leaky, {"x": 1e10})
    assert call(lambda x: sn.LinearProblem(a_star=x), {"x": np.nan})[0] is REFUSED


def test_registered_names_exist():
    for name in CASES:
        root = name.split(".")[0]
        assert root in sn.__all__ or root in dir(sn), f"registered but not public: {name}"
        obj = getattr(sn, root)
        for part in name.split(".")[1:]:
            assert hasattr(obj, part), f"{name}: no attribute {part}"
            obj = getattr(obj, part)
        assert callable(obj) or inspect.isclass(obj), name
