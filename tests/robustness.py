"""What a registration in ``robustness_cases_*.py`` is (read by ``test_robustness.py``)."""


class Case:
    """A registered callable: ``make()`` returns (callable, kwargs) of a valid call (a fresh object
    for methods and for arguments the call may change); ``kinds`` maps each argument to its kind
    (see POOLS) when the default guess from its valid value is not the right one."""

    def __init__(self, make, kinds=None, examples=30):
        self.make, self.kinds, self.examples = make, kinds or {}, examples


class Exempt:
    """A public name that is not an entry point (a record the package returns), with the reason."""

    def __init__(self, reason):
        self.reason = reason
