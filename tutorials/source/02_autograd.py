# %% [markdown]
# # 02 · Autograd: derivatives, computed for you
#
# A network learns by adjusting its weights to make an error (the *loss*) smaller. To know which
# way to move each weight, it needs the **gradient**: the derivative of the loss with respect to
# every weight. A network has thousands to billions of weights; nobody writes those derivatives by
# hand. **Automatic differentiation** ("autograd") computes them exactly, from the computation
# itself.
#
# In this notebook: a derivative by hand and by `backward()`, the graph autograd records (drawn),
# turning recording off with `no_grad`, gradients accumulating, hooks, gradients of gradients,
# and writing your own differentiable operation.

# %%
import math

import nbframe as nf

%load_ext nbframe

# %% [markdown]
# ## By hand, then by autograd
#
# Take $f(x) = \sin(x) \cdot x^2$. The product rule gives
# $f'(x) = \cos(x)\,x^2 + \sin(x)\cdot 2x$. At $x = 1.5$:

# %%
x_value = 1.5
by_hand = math.cos(x_value) * x_value ** 2 + math.sin(x_value) * 2 * x_value
print("by hand:  ", by_hand)

# %% [markdown]
# Now let nbframe do it. `requires_grad=True` asks it to record every operation done with `x`;
# `backward()` walks that record from the result back to `x` and leaves the derivative in `x.grad`.

# %%
x = nf.tensor(x_value, dtype=nf.float64, requires_grad=True)
f = nf.sin(x) * x ** 2
f.backward()
print("autograd: ", x.grad.item())

# %% [markdown]
# The same number, with no calculus on our side. (We used `float64` so the two agree to all the
# digits shown; networks use `float32`.)
#
# A check you can always do is a **finite difference**: nudge $x$ by a tiny $h$ and see how
# much $f$ moves. It is approximate and needs one extra evaluation *per input* — fine for one
# number, hopeless for a million weights, which is why autograd matters.

# %%
h = 1e-6
finite_difference = (math.sin(x_value + h) * (x_value + h) ** 2 - math.sin(x_value) * x_value ** 2) / h
print("finite difference:", finite_difference)

# %% [markdown]
# ## The graph
#
# While you compute, every operation on a tensor that requires gradients records itself: the
# result's `grad_fn` says which operation made it and links back to that operation's inputs. That
# chain is the **computation graph**, built as your Python runs — a *dynamic graph*, PyTorch's
# style (tutorial 07 compares it with TensorFlow's graphs that are built before they run).

# %%
print(f.grad_fn)
print(f.grad_fn.next_functions)

# %% [markdown]
# `%graph` draws it. The tensors you created (blue boxes, with their shapes) are at the top;
# each oval is an operation; the arrows show the numbers flowing down to the result (green).

# %%
a = nf.tensor([1.0, 2.0], requires_grad=True)
b = nf.tensor([3.0, 4.0], requires_grad=True)
loss = ((a * b).sum() - a.pow(2).mean()).exp()

# %%
%graph loss

# %% [markdown]
# `backward()` visits that graph once, in the other direction — from the result up to the
# inputs — multiplying local derivatives
# together (the **chain rule**). That is *reverse-mode* differentiation: one backward pass gives
# the gradient with respect to every input at once, whatever their number.
#
# ## Gradients accumulate
#
# `.grad` is **added to** by every `backward()`, not replaced. That is useful (a gradient summed
# over several pieces of a batch), and a classic bug when forgotten: in a training loop, clear
# the gradients before each step (`optimizer.zero_grad()` does this for a model's weights).

# %%
w = nf.tensor(3.0, requires_grad=True)
for step in range(3):
    (w * w).backward()        # d(w^2)/dw = 2w = 6 each time
    print("after backward", step + 1, "w.grad =", w.grad.item())
w.grad = None                 # clear it
(w * w).backward()
print("after clearing:", w.grad.item())

# %% [markdown]
# And the graph is freed by `backward()` (to save memory), so a second backward through the
# same result is an error unless you asked to keep it with `retain_graph=True`:

# %% [raises]
y = (w * 2).exp()
y.backward()
y.backward()

# %% [markdown]
# ## Turning recording off: `no_grad` and `detach`
#
# Recording costs time and memory. When you only want answers — evaluating a model, or updating
# the weights themselves — switch it off with `with nf.no_grad():`. Inside, results don't require
# gradients and no graph is built. `tensor.detach()` gives the same numbers cut off from the graph.

# %%
weights = nf.tensor([1.0, 2.0], requires_grad=True)
with nf.no_grad():
    prediction = weights * 10
print("inside no_grad:", prediction.requires_grad, prediction.grad_fn)

tracked = weights * 10
print("normally:      ", tracked.requires_grad, tracked.grad_fn)
print("detached:      ", tracked.detach().requires_grad)

# %% [markdown]
# Here is all of "learning" in a few lines: a straight line $y = w x + b$ fitted to noisy points
# by **gradient descent** — compute the loss, get its gradients, step the two numbers against
# them, inside `no_grad` (the update itself must not be recorded), clear the gradients, repeat.

# %%
nf.manual_seed(0)
xs = nf.linspace(-1, 1, 50)
ys = 2.0 * xs + 0.5 + 0.1 * nf.randn(50)   # the truth: w = 2, b = 0.5, plus noise

w = nf.tensor(0.0, requires_grad=True)
b = nf.tensor(0.0, requires_grad=True)
learning_rate = 0.2
for step in range(61):
    loss = ((w * xs + b - ys) ** 2).mean()   # mean squared error
    loss.backward()
    with nf.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
    w.grad = None
    b.grad = None
    if step % 10 == 0:
        print(f"step {step:2}: loss {loss.item():.4f}   w {w.item():.3f}   b {b.item():.3f}")

# %% [markdown]
# The loss falls and `w` and `b` approach the values the data were made with. Tutorial 04
# hands these steps to an optimiser; everything else in deep learning is a bigger function in place
# of `w * xs + b`.
#
# ## Hooks: looking at gradients as they flow
#
# `tensor.register_hook(fn)` calls `fn` with the gradient arriving at that tensor during
# `backward()`. Use it to print, record, or change a gradient (return a new tensor to replace it).
# It returns a handle; `handle.remove()` unhooks it.

# %%
x = nf.tensor([1.0, 2.0, 3.0], requires_grad=True)
hidden = x * 2
hidden.register_hook(lambda grad: print("gradient arriving at hidden:", grad))
handle = x.register_hook(lambda grad: grad.clamp(max=5.0))   # cap the gradient at 5
(hidden ** 2).sum().backward()
print("x.grad (capped):", x.grad)
handle.remove()

# %% [markdown]
# ## Gradients of gradients
#
# The backward pass is itself made of tensor operations, so it can be recorded too:
# `nf.autograd.grad(output, input, create_graph=True)` returns the gradient as a tensor *with a
# graph*, which you can differentiate again. For $x^3$: first derivative $3x^2$, second $6x$.

# %%
x = nf.tensor(2.0, requires_grad=True)
y = x ** 3
(dy_dx,) = nf.autograd.grad(y, x, create_graph=True)
(d2y_dx2,) = nf.autograd.grad(dy_dx, x)
print("y      =", y.item())
print("dy/dx  =", dy_dx.item(), "  (3x^2)")
print("d2y/dx2 =", d2y_dx2.item(), "  (6x)")

# %% [markdown]
# Second derivatives appear in gradient penalties (WGAN-GP), meta-learning and Newton-like
# optimisers.
#
# ## Your own operation: `autograd.Function`
#
# When an operation isn't available, or you want a different gradient than the true one,
# write a `Function` with a `forward` (the computation) and a `backward` (given the gradient of the
# loss with respect to the output, return it with respect to each input). `ctx` carries what
# backward needs from forward.
#
# This one clips values to $[-1, 1]$ in the forward pass but lets the gradient through unchanged
# (a "straight-through estimator", used to train networks with rounded weights):

# %%
class StraightThroughClip(nf.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(-1.0, 1.0)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output          # pretend forward was the identity


x = nf.tensor([-3.0, 0.5, 2.0], requires_grad=True)
y = StraightThroughClip.apply(x)
y.sum().backward()
print("forward:", y)
print("x.grad: ", x.grad, " (the real clamp would give 0 where it clipped)")

# %% [markdown]
# When you write a true derivative, check it: `nf.autograd.gradcheck` compares your backward
# with finite differences on float64 inputs, and returns `True` when they agree. A softplus,
# $\log(1 + e^x)$, whose derivative is the sigmoid $1/(1 + e^{-x})$:

# %%
class Softplus(nf.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return nf.log1p(nf.exp(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * nf.sigmoid(x)


inputs = nf.randn(5, dtype=nf.float64, requires_grad=True)
print("gradcheck:", nf.autograd.gradcheck(Softplus.apply, (inputs,)))

# %% [markdown]
# ## Exercise
#
# 1. For $g(a, b) = a^2 b + \tanh(b)$, compute $\partial g / \partial a$ and
#    $\partial g / \partial b$ at $a = 2, b = 0.5$ with `backward()`, and compare with the
#    formulas $2ab$ and $a^2 + 1 - \tanh(b)^2$.
# 2. Write a `Function` for $\text{square}(x) = x^2$ with its true backward and check it with
#    `gradcheck`. Then break the backward on purpose (return `grad_output * x`): what does
#    `gradcheck` say?

# %% [solution]
a = nf.tensor(2.0, dtype=nf.float64, requires_grad=True)
b = nf.tensor(0.5, dtype=nf.float64, requires_grad=True)
g = a ** 2 * b + nf.tanh(b)
g.backward()
print("autograd:", a.grad.item(), b.grad.item())
print("formulas:", 2 * 2.0 * 0.5, 2.0 ** 2 + 1 - math.tanh(0.5) ** 2)


class Square(nf.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x


class BrokenSquare(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x      # wrong: missing the 2


x = nf.randn(4, dtype=nf.float64, requires_grad=True)
print("Square:", nf.autograd.gradcheck(Square.apply, (x,)))
try:
    nf.autograd.gradcheck(BrokenSquare.apply, (x,))
except Exception as error:          # gradcheck raises, showing both Jacobians
    print("BrokenSquare:", type(error).__name__, str(error).splitlines()[0])
