"""pyxirr (numpy companion; mixed layout): XIRR of a one-year 10% investment, from numpy arrays."""

from datetime import date

import numpy as np
import pyxirr

rate = pyxirr.xirr([date(2021, 1, 1), date(2022, 1, 1)], [-1000.0, 1100.0])
assert abs(rate - 0.10) < 1e-6, rate
assert abs(pyxirr.npv(0.1, np.array([-100.0, 110.0]))) < 1e-9
