# %% [markdown]
# # 01 · Tensors
#
# Everything in a neural network — the images you feed it, the weights it learns, the scores it
# predicts, the gradients that train it — is stored in **tensors**. A tensor is an
# n-dimensional grid of numbers of one type, on one device: a NumPy array that can live on a GPU
# and remember how it was computed (that last part is tutorial 02).
#
# In this notebook: making tensors, their types, arithmetic and **broadcasting**, indexing,
# moving between nbframe and NumPy, and choosing the CPU or a GPU.
#
# If you know NumPy you know most of this already; the names are PyTorch's, so the same code
# works there too.

# %%
import numpy as np

import nbframe as nf

%load_ext nbframe

# %% [markdown]
# ## Making tensors
#
# From Python lists, with `nf.tensor`. The number of nested levels is the number of dimensions
# (the tensor's *rank*); `.shape` lists the size of each.

# %%
scalar = nf.tensor(3.5)
vector = nf.tensor([1.0, 2.0, 3.0])
matrix = nf.tensor([[1.0, 2.0, 3.0],
                    [4.0, 5.0, 6.0]])
for name, t in [("scalar", scalar), ("vector", vector), ("matrix", matrix)]:
    print(f"{name:7} dimensions: {t.dim()}   shape: {tuple(t.shape)}   elements: {t.numel()}")

# %% [markdown]
# With the extension loaded, a tensor at the end of a cell shows its shape, type, device and
# gradient state above its values:

# %%
matrix

# %% [markdown]
# Or made to a shape, filled in a pattern. The shape can be given as separate numbers or a tuple.

# %%
print(nf.zeros(2, 3))
print(nf.ones((2, 3)))
print(nf.full((2, 2), 7.0))
print(nf.eye(3))
print(nf.arange(5))               # 0, 1, ..., 4 like range()
print(nf.linspace(0, 1, steps=5))  # 5 evenly spaced numbers from 0 to 1

# %% [markdown]
# Random tensors are where a network's weights start. `nf.manual_seed` makes them repeatable:
# run the cell twice and you get the same numbers.

# %%
nf.manual_seed(0)
print(nf.rand(2, 3))              # uniform in [0, 1)
print(nf.randn(2, 3))             # normal: mean 0, standard deviation 1
print(nf.randint(0, 10, (2, 3)))  # whole numbers from 0 to 9

# %% [markdown]
# ## Data types
#
# Every element of a tensor has the same type, its `dtype`. Numbers with a decimal point become
# `float32` (32-bit floating point: about 7 significant digits, the usual type for deep learning —
# half the memory of NumPy's default `float64`, and what GPUs are fast at); whole numbers become
# `int64`; `True`/`False` become `bool`.

# %%
print(nf.tensor([1.0, 2.0]).dtype)
print(nf.tensor([1, 2]).dtype)
print(nf.tensor([True, False]).dtype)

# %% [markdown]
# Ask for a type with `dtype=`, or convert with `.to(...)` (or the shortcuts `.float()`,
# `.double()`, `.long()`). Conversion makes a new tensor.

# %%
ints = nf.tensor([1, 2, 3], dtype=nf.int32)
print(ints, ints.dtype)
print(ints.to(nf.float64))
print(ints.float() / 2)
print("0.1 stored as float64:", nf.tensor(0.1, dtype=nf.float64).item())
print("0.1 stored as float32:", nf.tensor(0.1).item(), " (fewer digits are exact)")

# %% [markdown]
# Labels of classes (digit 0 to 9, say) are `int64`; images, weights and losses are `float32`.
#
# ## Arithmetic
#
# The operators work element by element; `@` is matrix multiplication. Reductions (`sum`,
# `mean`, `max`, ...) take an optional `dim`: the dimension that disappears.

# %%
a = nf.tensor([[1.0, 2.0], [3.0, 4.0]])
b = nf.tensor([[10.0, 20.0], [30.0, 40.0]])
print(a + b)
print(a * b)            # element by element
print(a @ b)            # matrix product: rows of a times columns of b
print(a.sum(), a.sum(dim=0), a.sum(dim=1))
print(a.mean(dim=1), a.max())
print(nf.exp(a).round(decimals=1), a.sqrt())

# %% [markdown]
# ## Broadcasting
#
# Adding a bias to every row of a batch, or scaling every image's channels, combines tensors of
# different shapes. **Broadcasting** is the rule: compare the shapes from the *right*; two sizes
# fit if they are equal or one of them is 1 (or missing), and a size-1 dimension is repeated to
# fit — without copying anything.

# %%
batch = nf.arange(6.0).reshape(2, 3)   # shape (2, 3): two rows
bias = nf.tensor([100.0, 200.0, 300.0])  # shape (3,): one per column
print(batch + bias)                    # (2, 3) + (3,) -> (2, 3)

column = nf.tensor([[1.0], [-1.0]])    # shape (2, 1)
print(batch * column)                  # (2, 3) * (2, 1) -> (2, 3)

print((column + bias).shape)           # (2, 1) + (3,) -> (2, 3): both grow

# %% [markdown]
# When the sizes don't fit, the error names the operation and both shapes:

# %% [raises]
batch + nf.tensor([1.0, 2.0])          # (2, 3) + (2,): 3 and 2 don't fit

# %% [markdown]
# The fix here is to say which dimension you meant: a `(2,)` tensor reshaped to `(2, 1)` is one
# value per *row*. `unsqueeze(1)` inserts that size-1 dimension:

# %%
batch + nf.tensor([1.0, 2.0]).unsqueeze(1)

# %% [markdown]
# ## Changing shape
#
# `reshape` (or `view`) reads the same numbers in a different shape; `-1` means "whatever
# is left". `unsqueeze`/`squeeze` add or remove a size-1 dimension, `.T` or `transpose` swaps
# dimensions, `flatten` makes a row, and `cat`/`stack` join tensors.

# %%
x = nf.arange(12.0)
print(x.reshape(3, 4).shape, x.reshape(2, -1).shape, x.view(2, 2, 3).shape)
print(x.reshape(3, 4).T.shape, x.unsqueeze(0).shape, x.reshape(1, 12, 1).squeeze().shape)
images = nf.zeros(32, 1, 8, 8)                            # 32 images, 1 channel, 8x8
print(images.flatten(start_dim=1).shape)                  # one row of 64 pixels per image
print(nf.cat([x, x]).shape, nf.stack([x, x]).shape)      # join along a dim / along a new dim

# %% [markdown]
# ## Indexing
#
# Indexing is NumPy's: integers pick, slices `start:stop:step` cut, a list of integers picks
# several rows, and a boolean tensor of the same shape (a *mask*) keeps the elements where it is
# `True`.

# %%
x = nf.arange(12.0).reshape(3, 4)
print(x)
print("x[0]       ", x[0])
print("x[:, 1]    ", x[:, 1])
print("x[1, 2]    ", x[1, 2].item())     # .item() turns a one-element tensor into a Python number
print("x[-1, ::2] ", x[-1, ::2])
print("x[[0, 2]]  ", x[[0, 2]])
print("x[x > 6]   ", x[x > 6])

# %% [markdown]
# An index of the basic kinds (integers and slices) gives a **view**: a window on the same
# numbers, not a copy. Writing into the view writes into the original. That's fast, and a
# classic source of surprise; call `.clone()` when you want your own copy.

# %%
row = x[0]
row[0] = -1.0
print(x[0])          # the original changed too
copy = x[1].clone()
copy[0] = -1.0
print(x[1])          # unchanged

# %% [markdown]
# Assigning through a mask sets many elements at once — here every negative number to zero:

# %%
x[x < 0] = 0.0
x

# %% [markdown]
# ## NumPy and back
#
# `nf.from_numpy(array)` wraps a NumPy array without copying, and `tensor.numpy()` gives the
# NumPy array behind a CPU tensor. They **share memory**: a change to one shows in the other.
# `nf.tensor(array)` copies instead.

# %%
array = np.zeros(3, dtype=np.float32)
shared = nf.from_numpy(array)
copied = nf.tensor(array)
array[0] = 42.0
print("shared:", shared)
print("copied:", copied)
print("back to NumPy:", shared.numpy(), type(shared.numpy()).__name__)

# %% [markdown]
# So you can load data with any NumPy-based library (pandas, scikit-learn, PIL through
# `np.asarray`) and hand it over for free. Note NumPy's default float is `float64`: convert with
# `.float()` before mixing it with float32 weights.
#
# ## CPU and GPU
#
# A tensor lives on a **device**: `cpu`, or `cuda` for an NVIDIA GPU (through CuPy). Every
# creation function takes `device=`, and `.to(device)` moves a tensor (a copy, across the
# PCI bus). All tensors in one operation must be on the same device. The usual idiom picks the GPU
# when there is one:

# %%
device = "cuda" if nf.cuda.is_available() else "cpu"
print("using", device)
t = nf.ones(2, 3, device=device)
print(t.device, (t * 2).to("cpu").device)

# %% [markdown]
# On a machine without a GPU, asking for one is a clear error rather than a crash deep inside:

# %%
try:
    nf.ones(2).to("cuda")
    print("this machine has a GPU: the tensor moved")
except RuntimeError as error:
    print("RuntimeError:", error)

# %% [markdown]
# Tutorial 08 is about the GPU: what runs there and how much faster it is.
#
# ## Exercise
#
# A batch of four 2×2 greyscale "images" is made below. Using broadcasting (no loops):
#
# 1. subtract each image's own mean from it, so that every image has mean 0;
# 2. then count, with a mask, how many pixels in the whole batch are above 0.
#
# Hint: `mean(dim=(1, 2), keepdim=True)` keeps the reduced dimensions with size 1, ready to
# broadcast.

# %%
nf.manual_seed(1)
batch = nf.rand(4, 2, 2)

# %% [solution]
means = batch.mean(dim=(1, 2), keepdim=True)   # shape (4, 1, 1)
centred = batch - means                          # (4, 2, 2) - (4, 1, 1) -> (4, 2, 2)
print("means shape:", tuple(means.shape))
print("each image's new mean:", centred.mean(dim=(1, 2)))  # zero, up to float32 rounding (~1e-8)
print("pixels above zero:", (centred > 0).sum().item(), "of", centred.numel())
