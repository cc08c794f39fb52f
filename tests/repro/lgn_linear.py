"""The linear baseline of the LGN table: multinomial logistic regression on
the same tasks file's standardised pixels (full-batch L-BFGS, L2 1e-4),
/test accuracy as one JSON object. Usage: lgn_linear.py TASKS.h5"""
import json
import sys
import time

import h5py
import torch

f = h5py.File(sys.argv[1], "r")
xtr = torch.tensor(f["train/x"][0], dtype=torch.float64)
ytr = torch.tensor(f["train/y"][0], dtype=torch.long)
xte = torch.tensor(f["test/x"][0], dtype=torch.float64)
yte = torch.tensor(f["test/y"][0], dtype=torch.long)
mean, std = xtr.mean(), xtr.std()
xtr, xte = (xtr - mean) / std, (xte - mean) / std
classes = int(ytr.max()) + 1
torch.manual_seed(0)
w = torch.zeros(xtr.shape[1], classes, dtype=torch.float64, requires_grad=True)
b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
opt = torch.optim.LBFGS([w, b], max_iter=500, history_size=20, line_search_fn="strong_wolfe")
start = time.time()


def closure():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(xtr @ w + b, ytr) + 1e-4 * (w * w).sum()
    loss.backward()
    return loss


opt.step(closure)
with torch.no_grad():
    acc = ((xte @ w + b).argmax(1) == yte).double().mean().item()
print(json.dumps({"test_accuracy": acc, "train_examples": len(ytr), "train_seconds": round(time.time() - start, 1)}))
