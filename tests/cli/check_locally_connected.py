"""Reads a locally-connected tasks file with h5py only (no symlearn code) and
checks it against the definition: shapes, attributes, config, y = W x, and
vec(W) = U_true vec(B); with permute_inputs, y = W x_orig where
x_orig[perm[k]] = x[k]. Usage: check_locally_connected.py FILE RANK KERNEL N."""
import json
import sys

import h5py
import numpy as np

path, rank, kernel, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = n - kernel + 1
f = h5py.File(path, "r")
assert f.attrs["symlearn_format"] == "tasks", f.attrs["symlearn_format"]
assert int(f.attrs["symlearn_version"]) == 1
assert f.attrs["created_by"].startswith("gen-tasks ")
cfg = json.loads(f.attrs["config"])
assert (cfg["rank"], cfg["kernel"], cfg["input_dim"], cfg["output_dim"]) == (rank, kernel, n, m), cfg

conn = f["truth/connectivity"][()]
u = f["truth/symmetry"][()]
assert conn.shape == (m, rank) and u.shape == (m * n, rank * kernel), (conn.shape, u.shape)
assert np.allclose(conn.sum(axis=1), 1.0) if rank > 1 else np.all(conn == 1.0)

total = 0
for split in ("train", "test"):
    x, y, w, b = (f[split][k][()].astype(np.float64) for k in ("x", "y", "w", "b"))
    t, nsamp = x.shape[0], x.shape[1]
    if cfg.get("permute_inputs", False):
        perm = f[split]["permutation"][()]
        assert perm.shape == (t, n), perm.shape
        assert all(sorted(p) == list(range(n)) for p in perm), "not permutations"
        orig = np.empty_like(x)
        for i in range(t):
            orig[i][:, perm[i]] = x[i]
        x = orig
    else:
        assert "permutation" not in f[split]
    total += t
    assert x.shape == (t, nsamp, n) and y.shape == (t, nsamp, m), (x.shape, y.shape)
    assert w.shape == (t, m, kernel) and b.shape == (t, rank, kernel), (w.shape, b.shape)
    for i in range(t):
        W = np.zeros((m, n))
        for j in range(m):
            W[j, j:j + kernel] = w[i, j]
        # y recomputed from x and w (float32 storage: tolerance of its rounding)
        assert np.allclose(x[i] @ W.T, y[i], atol=1e-5, rtol=1e-5), (split, i)
        # vec(W) = U_true vec(B), column-major vec
        assert np.allclose(u @ b[i].flatten(order="F"), W.flatten(order="F"), atol=1e-5), (split, i)
        assert np.allclose(conn @ b[i], w[i], atol=1e-5), (split, i)
assert total == cfg["tasks"], (total, cfg["tasks"])
x = f["train/x"][()]
sigma = 1 / np.sqrt(x.size)  # standard error of the mean of x.size N(0,1) draws
assert abs(x.mean()) < 5 * sigma and abs(x.std() - 1) < 5 * sigma, (x.mean(), x.std())
print("ok", path)
