"""Reader for OR-Library set-covering files (Beasley's format), for tests and benchmarks.

The file holds: number of rows m, number of columns n; the n column costs; then for
each row the number of columns covering it followed by those columns (1-based). In
this package's orientation the *columns* of the file are sites and its *rows* demand
points, so :func:`read_orlib` returns the sites × points matrix and the site costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp


def read_orlib(path) -> tuple[sp.csr_matrix, np.ndarray]:
    """(coverage matrix: sites × points, boolean CSR; site costs) of an OR-Library file."""
    numbers = np.array(Path(path).read_text().split(), dtype=np.int64)
    m, n = int(numbers[0]), int(numbers[1])
    costs = numbers[2:2 + n].astype(float)
    pos, rows, cols = 2 + n, [], []
    for point in range(m):
        k = int(numbers[pos])
        cols.append(numbers[pos + 1:pos + 1 + k] - 1)
        rows.append(np.full(k, point, dtype=np.int64))
        pos += 1 + k
    site, point = np.concatenate(cols), np.concatenate(rows)
    matrix = sp.csr_matrix((np.ones(len(site), dtype=bool), (site, point)), shape=(n, m))
    matrix.sort_indices()
    return matrix, costs
