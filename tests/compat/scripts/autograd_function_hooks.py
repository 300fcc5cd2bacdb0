"""Custom autograd Functions and hooks, from PyTorch's "Learning PyTorch with Examples" and hooks tutorials.

Fits sin(x) with a third-order Legendre polynomial written as an ``autograd.Function``, trains a
tiny net through a custom ReLU, and watches it with tensor hooks, forward hooks and full
backward hooks. Everything starts from fixed values, so both runs print the same numbers.
"""

import math

import torch
import torch.nn as nn


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


class ScaleGrad(torch.autograd.Function):
    """Identity forward; backward scales the gradient (a non-tensor argument gets None)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.scale, None


dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(1000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 250 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f"legendre loss: {loss.item():.4f}")
print(f"legendre d: {d.item():.6f}")

# A custom Function checks out numerically.
inputs = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
assert torch.autograd.gradcheck(LegendrePolynomial3.apply, (inputs,), eps=1e-6, atol=1e-4)

# Tensor hooks: see and change a gradient on its way back.
seen = []
w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = w * 2
h.register_hook(lambda grad: seen.append(grad.clone()))
handle = w.register_hook(lambda grad: grad * 10)
(h ** 2).sum().backward()
print(f"hooked grad sum: {w.grad.sum().item():.4f}")
print(f"seen grad sum: {seen[0].sum().item():.4f}")
handle.remove()
w.grad.zero_()
(ScaleGrad.apply(w, 0.5) * w).sum().backward()
print(f"scaled grad sum: {w.grad.sum().item():.4f}")

# retain_grad and autograd.grad
u = torch.tensor([0.5, -1.5], requires_grad=True)
v = u.exp()
v.retain_grad()
z = (v * u).sum()
(du,) = torch.autograd.grad(z, u, create_graph=True)
(d2u,) = torch.autograd.grad(du.sum(), u, retain_graph=True)
z.backward()
print(f"retained grad sum: {v.grad.sum().item():.4f}")
print(f"second derivative sum: {d2u.sum().item():.4f}")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(MyReLU.apply(self.fc1(x)))


model = Net()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.sin(torch.arange(p.numel()) * 1.7 + i).reshape(p.shape))

activations = {}
grad_norms = {}


def save_activation(name):
    def hook(module, input, output):
        activations[name] = output.detach()
    return hook


def save_grad_norm(module, grad_input, grad_output):
    grad_norms[type(module).__name__] = grad_output[0].norm().item()


hooks = [model.fc1.register_forward_hook(save_activation("fc1")),
         model.fc2.register_full_backward_hook(save_grad_norm)]
model.fc1.register_forward_pre_hook(lambda module, args: (args[0] * 1.0,))

xs, ys = torch.meshgrid(torch.linspace(-1, 1, 8), torch.linspace(-1, 1, 8), indexing="ij")
points = torch.stack([xs.flatten(), ys.flatten()], dim=1)
assert torch.equal(points, torch.cartesian_prod(torch.linspace(-1, 1, 8), torch.linspace(-1, 1, 8)))
target = (points[:, 0] * points[:, 1] > 0).float().unsqueeze(1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.BCEWithLogitsLoss()
for _ in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(points), target)
    loss.backward()
    optimizer.step()
for h in hooks:
    h.remove()

print(f"fc1 activation mean: {activations['fc1'].mean().item():.4f}")
print(f"fc2 grad output norm: {grad_norms['Linear']:.6f}")
print(f"xor loss: {loss.item():.4f}")
accuracy = ((model(points) > 0).float() == target).float().mean().item()
print(f"accuracy: {accuracy:.4f}")
