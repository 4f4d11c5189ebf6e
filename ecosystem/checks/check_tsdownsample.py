"""tsdownsample (numpy companion; mixed layout; in-project path dependency downsample_rs)."""

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

y = np.sin(np.arange(10_000) / 100.0)
idx = MinMaxLTTBDownsampler().downsample(y, n_out=100)
assert len(idx) == 100, len(idx)
assert idx[0] == 0 and idx[-1] == 9_999, (idx[0], idx[-1])
assert np.all(np.diff(idx) > 0)
