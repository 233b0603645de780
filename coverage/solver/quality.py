"""How good a plan is: what greedy, the local search and the bound found (typed).

:class:`Quality` replaces the untyped dict plans used to carry; its
:meth:`Quality.as_summary` gives the plan-quality keys of ``summary.json`` (see
docs/outputs.md) and :meth:`Quality.from_summary` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Quality:
    """Plan-quality figures; every field is JSON-ready (None when not computed).

    ``greedy`` / ``improved``: ``{"n_sites", "cost", "coverage", ...}`` of the greedy
    plan and of the plan after improvement. ``lower_bound``: proven lower bound on the
    least total cost (cost units); ``gap``: (plan cost − lower_bound) / lower_bound;
    ``bound_status`` and ``bound``: how the bound went; ``bound_method``: how it was
    obtained ("lagrangian", "lp", "milp-optimal", "milp", "trivial");
    ``coverage_upper_bound``: under a budget, the most any plan can cover (fraction);
    ``exact``: the MILP's result when one was run.
    """

    greedy: dict | None = None
    improved: dict | None = None
    lower_bound: float | None = None
    gap: float | None = None
    bound_status: str | None = None
    bound: dict | None = None
    bound_method: str | None = None
    coverage_upper_bound: float | None = None
    exact: dict | None = None

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The summary.json keys, in their order."""
        return tuple(f.name for f in fields(cls))

    def as_summary(self) -> dict:
        return {key: getattr(self, key) for key in self.keys()}

    @classmethod
    def from_summary(cls, summary: dict) -> Quality:
        return cls(**{key: summary.get(key) for key in cls.keys()})  # noqa: SIM118 - keys() is the dataclass's own classmethod

    def get(self, key: str, default=None):
        """Dict-style access, for code that read the old quality dict."""
        value = getattr(self, key, None)
        return default if value is None else value
