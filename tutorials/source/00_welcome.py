# %% [markdown]
# # 00 · Welcome to nbframe
#
# nbframe is a deep-learning framework that lives in Jupyter. You write models the way PyTorch
# users do, and you can look inside them without leaving the notebook: their shapes, their
# computation graphs, every operation they run.
#
# These tutorials assume you know some Python and NumPy, and **nothing** about deep learning
# frameworks. Work through them in order; each takes 15–30 minutes and ends with a short exercise.
#
# | notebook | what you learn |
# | --- | --- |
# | 00 welcome | installing, loading the extension, a two-minute tour (this one) |
# | 01 tensors | the array type everything is built on |
# | 02 autograd | how derivatives are computed for you |
# | 03 models with `%%model` | defining networks one layer a line, and as Python classes |
# | 04 training | the training loop, optimisers and learning-rate schedules |
# | 05 convolutional networks | networks for images: LeNet, a small ResNet, augmentation |
# | 06 debugging | finding NaNs, shape errors and vanishing gradients |
#
# ## Installing
#
# In a terminal, either install the package:
#
# ```bash
# pip install nbframe            # the CPU version: NumPy is all it needs
# pip install "nbframe[cuda]"    # adds CuPy, for an NVIDIA GPU
# ```
#
# or, from a checkout of the repository, run `make lab`: it creates a virtual environment,
# installs nbframe into it and opens these tutorials in JupyterLab.
#
# ## Two lines to start every notebook
#
# `import nbframe as nf` gives you the library. `%load_ext nbframe` is a Jupyter command (a
# *magic*: a line starting with `%`) that adds nbframe's notebook tools — model cells, graph
# pictures, the op debugger — and makes tensors and models display nicely.

# %%
import nbframe as nf

%load_ext nbframe

# %% [markdown]
# `%nbframe info` tells you what you are running on: the versions, whether a GPU was found, and
# which program draws the graph pictures. If you ever ask for help, paste this table.

# %%
%nbframe info

# %% [markdown]
# ## The tour
#
# ### 1. Tensors
#
# A **tensor** is an n-dimensional array of numbers, like a NumPy array. Neural networks are
# made of tensors: the data you feed in, the weights they learn, the predictions they make.
# With the extension loaded, the last expression of a cell shows the tensor's shape, its data
# type (`dtype`) and the device it lives on, above a preview of its values.

# %%
x = nf.tensor([[1.0, 2.0, 3.0],
               [4.0, 5.0, 6.0]])
x

# %% [markdown]
# Arithmetic works element by element, like NumPy, and `@` multiplies matrices:

# %%
print(x * 10)
print(x @ x.T)

# %% [markdown]
# ### 2. Gradients, computed for you
#
# Training a network means nudging its numbers so that an error gets smaller, and for that you
# need derivatives: how much the error changes when each number changes. Mark a tensor with
# `requires_grad=True`, compute something from it, call `.backward()`, and its `.grad` holds the
# derivative. Here $y = w_1^2 + w_2^2 + w_3^2$, whose derivative with respect to each $w_i$
# is $2 w_i$:

# %%
w = nf.tensor([1.0, -2.0, 3.0], requires_grad=True)
y = (w ** 2).sum()
y.backward()
print("y      =", y.item())
print("dy/dw  =", w.grad)

# %% [markdown]
# Tutorial 02 shows how this works and what else it can do.
#
# ### 3. A model, one layer a line
#
# A **model** (or *network*) is a function with learnable numbers inside, built from **layers**.
# The `%%model` cell builds one from a list of layers and, given an example input shape, runs it
# once and shows a summary: each layer's output shape and how many numbers it learns
# ("parameters").
#
# This one classifies 8×8 images of handwritten digits: it flattens the 64 pixels into a
# row, mixes them into 32 numbers, keeps only the positive parts (`ReLU`), and mixes those
# into 10 scores, one per digit.

# %%
%%model net --input 1,1,8,8
Flatten()
Linear(64, 32)
ReLU()
Linear(32, 10)

# %% [markdown]
# `net` is now an ordinary Python object — call it on a batch of images:

# %%
scores = net(nf.zeros(5, 1, 8, 8))
scores.shape

# %% [markdown]
# ### 4. Data, and a few steps of training
#
# `nf.datasets.Digits` holds 1,797 small images of handwritten digits with their labels. It
# comes with scikit-learn, so nothing is downloaded. A `DataLoader` hands them out in shuffled
# batches.

# %%
from nbframe.utils.data import DataLoader

train_set = nf.datasets.Digits(train=True)
test_set = nf.datasets.Digits(train=False)
image, label = train_set[0]
print(len(train_set), "training images,", len(test_set), "test images")
print("one image:", tuple(image.shape), "  its label:", label)

# %% [markdown]
# Training repeats four steps: predict, measure the error (the **loss**), compute its gradients,
# and let an **optimiser** move every weight a little against its gradient. One pass over the
# training images is an **epoch**. Tutorial 04 takes this loop apart line by line; for now, watch
# the accuracy on images the model has never seen.

# %%
nf.manual_seed(0)
loader = DataLoader(train_set, batch_size=64, shuffle=True)
optimizer = nf.optim.Adam(net.parameters(), lr=0.01)
loss_fn = nf.nn.CrossEntropyLoss()


def test_accuracy(model):
    images = nf.stack([image for image, _ in test_set])
    labels = nf.tensor([label for _, label in test_set])
    with nf.no_grad():
        predicted = model(images).argmax(dim=1)
    return (predicted == labels).float().mean().item()


print(f"before training: {test_accuracy(net):.1%} of test digits right")
for epoch in range(3):
    for images, labels in loader:
        loss = loss_fn(net(images), labels)   # 1. predict and 2. measure the error
        optimizer.zero_grad()
        loss.backward()                       # 3. gradients
        optimizer.step()                      # 4. nudge the weights
    print(f"after epoch {epoch + 1}: {test_accuracy(net):.1%} of test digits right")

# %% [markdown]
# Before training the model guesses at random (about one digit in ten); a few seconds of
# training on a laptop take it most of the way.
#
# ## What is in the box
#
# If you have used PyTorch, nothing here will surprise you: nbframe uses PyTorch's names, so
# what you learn here carries over, and much PyTorch code runs with `import nbframe as torch`.
#
# | you want | nbframe | the idea comes from |
# | --- | --- | --- |
# | arrays on CPU or GPU that you can differentiate | `nf.tensor`, `.backward()` | PyTorch |
# | layers, losses, models as Python classes | `nf.nn` | PyTorch |
# | optimisers and learning-rate schedules | `nf.optim` | PyTorch |
# | datasets and batching | `nf.utils.data`, `nf.datasets` | PyTorch |
# | ready-made image models | `nf.vision.models` | torchvision |
# | models one layer a line, with a summary | `%%model` | Keras' `summary()` |
# | a debugger that shows every operation | `%%watch` | TensorFlow's tfdbg |
# | pictures of the computation graph | `%graph` | TensorBoard |
# | weight files that can't run code | `nf.save`, `nf.load` | safetensors |
#
# ## Exercise
#
# Train the model above for three more epochs (run the training loop again: the weights carry
# on from where they are). Does the test accuracy still improve? Then build a new model with
# `Linear(64, 64)` as its hidden layer instead of `Linear(64, 32)`: how many parameters does the
# summary report now, and why?
#
# The solution is in the next cell, hidden: click on the cell's left edge (or the "…") to show it.

# %% [solution]
# More epochs: run the loop again (the optimiser keeps its state, the weights keep improving).
for epoch in range(3):
    for images, labels in loader:
        loss = loss_fn(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch + 4}: {test_accuracy(net):.1%}")

# A wider hidden layer: 64*64 weights + 64 biases, then 64*10 + 10.
wide = nf.nn.Sequential(nf.nn.Flatten(), nf.nn.Linear(64, 64), nf.nn.ReLU(), nf.nn.Linear(64, 10))
print(nf.summary(wide, (1, 1, 8, 8)))
print("by hand:", 64 * 64 + 64 + 64 * 10 + 10)
