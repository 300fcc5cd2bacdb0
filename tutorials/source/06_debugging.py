# %% [markdown]
# # 06 · Debugging
#
# A network that crashes is the easy case: Python tells you where. The hard cases run without
# complaint and train badly — a loss that turns into `nan` after an hour, a deep network whose
# first layers never learn, a shape that broadcasts where it shouldn't. This notebook is a
# toolbox for those:
#
# - `%%watch`: record every operation a cell runs, with shapes and statistics (like TensorFlow's
#   debugger, tfdbg, inside the notebook);
# - `%%watch --nan`: stop at the first operation that makes a NaN or an infinity, and show its line;
# - `nf.autograd.detect_anomaly()`: the same for the backward pass;
# - gradient norms per layer, and the graph coloured by them: vanishing gradients at a glance;
# - hooks and the Python debugger inside a model's `forward`.

# %%
import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F

%load_ext nbframe

# %% [markdown]
# ## `%%watch`: every operation, recorded
#
# Put `%%watch` on top of a cell and it runs normally, but every tensor operation is recorded:
# its name, input and output shapes, dtype, time, statistics of its output (min, max, mean,
# standard deviation, how many NaN and Inf) and the line of the cell that ran it.

# %%
nf.manual_seed(0)
layer = nn.Linear(64, 10)
images = nf.randn(4, 64)

# %%
%%watch --out record
scores = layer(images)
probabilities = scores.softmax(dim=1)
loss = F.cross_entropy(scores, nf.tensor([1, 0, 3, 9]))
loss.backward()

# %% [markdown]
# `--out record` also keeps the record as a Python list, to filter or sort:

# %%
slowest = max(record, key=lambda r: r.seconds)
print(f"{len(record)} ops recorded; the slowest: {slowest.op} ({slowest.seconds * 1e3:.3f} ms)")
print("ops run by cell line 2:", [r.op for r in record if r.line == 2])  # lines count from %%watch

# %% [markdown]
# ## Hunting a NaN to its line
#
# NaN ("not a number") is what `0/0`, `inf - inf` or the log of a negative number give. One NaN
# anywhere spreads through every later operation, so by the time the loss prints `nan`, its
# origin is long gone.
#
# Here is a classic: a softmax written from its textbook formula, $e^{x_i} / \sum_j e^{x_j}$,
# followed by a log to get the cross-entropy. It works on small scores...

# %%
def my_cross_entropy(scores, labels):
    probabilities = nf.exp(scores) / nf.exp(scores).sum(dim=1, keepdim=True)
    picked = probabilities[nf.arange(len(labels)), labels]
    return -nf.log(picked).mean()


labels = nf.tensor([0, 1])
small = nf.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
print("small scores:", my_cross_entropy(small, labels).item())

# %% [markdown]
# ... and gives `nan` on large ones, as a network's scores can become during training:

# %%
large = small * 100
print("large scores:", my_cross_entropy(large, labels).item())

# %% [markdown]
# Which operation went wrong? `%%watch --nan` stops at the first operation whose output holds a
# NaN or an infinity, and names the line:

# %% [raises]
%%watch --nan
probabilities = nf.exp(large) / nf.exp(large).sum(dim=1, keepdim=True)
picked = probabilities[nf.arange(2), labels]
loss = -nf.log(picked).mean()

# %% [markdown]
# The first bad value is already in the first line: $e^{250}$ is larger than the largest float32
# (about $3.4 \times 10^{38}$), so `exp` overflowed to infinity, and infinity divided by infinity
# is NaN. The cure is to compute the log of the softmax directly, after subtracting each row's
# maximum (which changes nothing mathematically, and keeps every exponent $\le 0$) — which is
# what `F.log_softmax` and `F.cross_entropy` do for you:

# %%
print("F.cross_entropy on large scores:", F.cross_entropy(large, labels).item())
# (a loss of about 0 is right: with scores this large the model is certain, and correct)

# %% [markdown]
# Lesson: prefer the library's fused functions (`cross_entropy`, `log_softmax`,
# `binary_cross_entropy_with_logits`) to writing the formulas yourself.
#
# ## NaN in the backward pass: `detect_anomaly`
#
# Sometimes the forward pass is perfectly fine and only the *gradient* is NaN. The distance
# between two points, $\sqrt{\sum (a - b)^2}$, is 0 when they coincide, but the derivative of
# $\sqrt{u}$ is $1 / (2\sqrt{u})$: infinite at 0, and infinity times the zero coming from
# $(a - b)$ is NaN.

# %%
a = nf.tensor([1.0, 2.0], requires_grad=True)
b = nf.tensor([1.0, 2.0])
distance = ((a - b) ** 2).sum().sqrt()
distance.backward()
print("distance:", distance.item(), "  gradient:", a.grad)

# %% [markdown]
# `with nf.autograd.detect_anomaly():` checks every gradient as backward computes it, and raises
# at the first NaN, naming the operation and the line of *your* code that ran it in the forward
# pass. (It slows everything down: turn it on to investigate, then off.)

# %%
a.grad = None
try:
    with nf.autograd.detect_anomaly():
        distance = ((a - b) ** 2).sum().sqrt()
        distance.backward()
except RuntimeError as error:
    print("\n".join(str(error).splitlines()[:3]))

# %% [markdown]
# The usual fix is a small constant under the root, `(... + 1e-12).sqrt()`, so the derivative
# stays finite.
#
# ## Vanishing gradients: a network too deep to learn
#
# The **sigmoid**, $1 / (1 + e^{-x})$, was the activation of early networks. Its derivative is at
# most 0.25, so in a deep stack of sigmoid layers the gradient is multiplied by a small number at
# every layer on its way back, and the first layers receive almost nothing: they never learn.
# Let's measure it. A twelve-layer network, one loss, one backward:

# %%
def deep_network(activation, depth=12, width=32):
    nf.manual_seed(0)
    layers = [nn.Flatten(), nn.Linear(64, width), activation()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), activation()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def gradient_norms(model):
    """The norm of each Linear layer's weight gradient after one backward on a batch of digits."""
    images = nf.stack([image for image, _ in nf.datasets.Digits(train=True)][:64])
    labels = nf.tensor([label for _, label in nf.datasets.Digits(train=True)][:64])
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    return [layer.weight.grad.norm().item() for layer in model if isinstance(layer, nn.Linear)]


sigmoid_net = deep_network(nn.Sigmoid)
relu_net = deep_network(nn.ReLU)
print("layer   sigmoid gradient   ReLU gradient")
for i, (s, r) in enumerate(zip(gradient_norms(sigmoid_net), gradient_norms(relu_net))):
    print(f"{i + 1:5}   {s:16.2e}   {r:13.2e}")

# %% [markdown]
# Read the sigmoid column from the bottom (the last layer, nearest the loss) up: the gradient
# shrinks layer after layer, so the first layers get a tiny fraction of what the last layer gets.
# With ReLU (derivative 1 wherever it is active) far more reaches the first layer.
#
# `%graph MODEL --input SHAPE --grads` draws the same information on the model's graph: the
# edge from each parameter is coloured by the norm of its gradient from the last backward (see
# the legend), so the layers that get almost nothing stand out at the top.

# %%
%graph sigmoid_net --input 64,1,8,8 --grads

# %% [markdown]
# Remedies, most of which you have met: ReLU-family activations, careful initialisation (the
# default `Linear` init is scaled to the layer's size), normalisation layers (`BatchNorm`,
# `LayerNorm`), and skip connections (ResNets, tutorial 05).
#
# ## Looking inside `forward`: hooks and the debugger
#
# To see what flows through a model without editing it, register a **forward hook** on a layer:
# a function called with the layer, its input and its output each time it runs. Handy to print
# shapes or catch the first layer whose output explodes. Remove hooks when done.

# %%
def report(module, inputs, output):
    print(f"{type(module).__name__:8} in {tuple(inputs[0].shape)} -> out {tuple(output.shape)}"
          f"   mean {output.mean().item():+.3f}  std {output.std().item():.3f}")


handles = [layer.register_forward_hook(report) for layer in list(relu_net)[:5]]
relu_net(nf.randn(8, 1, 8, 8))
for handle in handles:
    handle.remove()

# %% [markdown]
# And since `forward` is plain Python, the Python debugger works inside it — something a
# framework with graphs compiled ahead of time can't offer (tutorial 07). Two ways, both
# interactive, so they're not run in this notebook:
#
# - write `breakpoint()` in a `forward` (or in a `%%model` graph form's `def forward`); the
#   next call stops there, and you can print tensors (`p x.shape`), step (`n`), continue (`c`);
# - after an exception, run `%debug` in a new cell: you land in the frame that raised, with
#   every variable inspectable. `u` and `d` move up and down the stack.
#
# ```python
# class Net(nn.Module):
#     def forward(self, x):
#         x = self.conv(x)
#         breakpoint()        # execution pauses here: inspect x, then 'c' to continue
#         return self.head(x.flatten(1))
# ```
#
# ## Exercise
#
# The function below standardises each row of a batch (mean 0, standard deviation 1), as
# normalisation layers do. It returns NaN for one of the rows of `batch`. Use `%%watch --nan`
# to find the operation, explain why, and fix the function.

# %%
def standardise(x):
    mean = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, keepdim=True)
    return (x - mean) / std


batch = nf.tensor([[1.0, 2.0, 3.0, 4.0],
                   [5.0, 5.0, 5.0, 5.0],
                   [0.0, 1.0, 0.0, 1.0]])
print(standardise(batch))

# %% [solution raises]
%%watch --nan --ops div
standardise(batch)
# The constant row has std 0, and (x - mean) / std is 0/0 = NaN. The fix: a small epsilon,
# as BatchNorm and LayerNorm do: (x - mean) / (std + 1e-5), or / (var + eps).sqrt().

# %% [solution]
def standardise(x, eps=1e-5):
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, keepdim=True, unbiased=False)
    return (x - mean) / (var + eps).sqrt()


print(standardise(batch))
