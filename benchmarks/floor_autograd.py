"""The floor for a Python autograd on NumPy: the least that can run issue 2's tiny graph.

Tensors with ``__slots__``, one closure per op for its backward, an iterative topological sort,
gradients in a dict. Nothing else: no dtype promotion, no broadcasting in backward, no version
counters, hooks, observers, no-grad mode or error messages. ``benchmarks/ops.py`` times it beside
nbframe and PyTorch so that nbframe's per-op overhead can be read against what any complete
engine must pay on top of NumPy on the same machine, in the same run.
"""

from __future__ import annotations

import numpy as np


class FloorTensor:
    __slots__ = ("data", "grad", "parents", "backward_fn")

    def __init__(self, data, parents: tuple = (), backward_fn=None):
        self.data = data
        self.grad = None
        self.parents = parents
        self.backward_fn = backward_fn

    def __mul__(self, other):
        if isinstance(other, FloorTensor):
            a, b = self.data, other.data
            return FloorTensor(a * b, (self, other), lambda g: (g * b, g * a))
        return FloorTensor(self.data * other, (self,), lambda g: (g * other,))

    def __add__(self, other):
        return FloorTensor(self.data + other.data, (self, other), lambda g: (g, g))

    def relu(self):
        out = np.maximum(self.data, 0)
        return FloorTensor(out, (self,), lambda g: (g * (out > 0),))

    def sum(self):
        shape = self.data.shape
        return FloorTensor(self.data.sum(), (self,), lambda g: (np.full(shape, g),))

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        grads = {id(self): np.ones_like(self.data)}
        for node in reversed(order):
            grad = grads.pop(id(node))
            if node.backward_fn is None:
                node.grad = grad if node.grad is None else node.grad + grad
                continue
            for parent, parent_grad in zip(node.parents, node.backward_fn(grad)):
                key = id(parent)
                grads[key] = parent_grad if key not in grads else grads[key] + parent_grad


def leaf(array) -> FloorTensor:
    return FloorTensor(array)
