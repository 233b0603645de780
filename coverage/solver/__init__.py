"""The solver core: weighted partial set cover on a sparse sites × demand matrix.

Pure numpy/scipy (no geopandas): :class:`Instance` in, typed results out.

- :mod:`.instance` — the instance dataclass and its constructor :meth:`Instance.build`;
- :mod:`.greedy` — lazy (CELF) greedy;
- :mod:`.local` — local search after greedy;
- :mod:`.bounds` — proven bounds (LP / Lagrangian) and HiGHS's exact MILP;
- :mod:`.quality` — :class:`Quality`, the plan-quality figures of ``summary.json``;
- :mod:`.run` — the whole solve the planner runs.
"""

from .greedy import Solution, evaluate_order, greedy_cover, quantise
from .instance import CoverConstraint, Instance, cells_reached
from .quality import Quality

__all__ = ["CoverConstraint", "Instance", "Quality", "Solution", "cells_reached", "evaluate_order",
           "greedy_cover", "quantise"]

from .cover import CoverResult, solve_cover, solve_instance  # noqa: E402

__all__ += ["CoverResult", "solve_cover", "solve_instance"]
