# %% [markdown]
# # 07 · Static and dynamic graphs
#
# Every framework turns your model into a **graph** of operations, because that is what
# autograd walks backwards and what an optimiser can rearrange. The great divide between
# frameworks has been *when* that graph is made:
#
# - **define-by-run** (dynamic, "eager"): the graph is recorded while your Python runs, anew on
#   every call. PyTorch's style, and what you have used so far: print anything, use `if` and
#   `for`, step through with a debugger.
# - **define-then-run** (static): you first describe the whole computation as a graph, with
#   **placeholders** standing for the data; then a session runs it, as often as you like, on real
#   data. TensorFlow 1's style. The framework sees the whole graph before running it, so it can
#   optimise it, and ship it to places without Python.
#
# Modern frameworks offer both: PyTorch has `torch.jit.trace` and `torch.compile`, TensorFlow 2
# is eager by default with `tf.function` to trace. nbframe too: this notebook runs the same model
# eagerly, in placeholder-and-session style, and traced, shows what the graph optimisations did,
# and where a static graph goes wrong.

# %%
import time
import warnings

import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F

%load_ext nbframe

# %%
nf.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
batch = nf.stack([image.flatten() for image, _ in nf.datasets.Digits(train=False)][:5])
print("a batch of", tuple(batch.shape))

# %% [markdown]
# ## Eager: the graph is recorded as Python runs
#
# Each line runs immediately and gives real numbers, which you can print or test in the
# middle of the computation. That is why eager code is easy to write and debug.

# %%
hidden = model[0](batch)
print("hidden layer, first row:", hidden[0, :4])
scores = model[2](model[1](hidden))
print("scores:", tuple(scores.shape), scores.grad_fn)

# %% [markdown]
# ## Define, then run: placeholders and a session
#
# In TensorFlow 1 you would write `x = tf.placeholder(tf.float32, (None, 64))`, build the model
# on it, then call `session.run(scores, feed_dict={x: batch})`. Here it is in nbframe:
# `nf.jit.placeholder` makes a stand-in tensor (`None`: a batch of any size), the layers are
# applied to it as usual — but nothing is computed, only recorded — and `Graph.from_outputs`
# cuts out the graph that computes what you asked for.

# %%
nf.jit.reset_default_graph()
x = nf.jit.placeholder((None, 64), name="x")
probabilities = model(x).softmax(dim=1)
graph = nf.jit.Graph.from_outputs(probabilities)
print(graph)

# %% [markdown]
# The table is the graph: the placeholder and the parameters (named by their path in the model,
# as `model.named_parameters()` names them) are its inputs, each `call_op` row is an operation
# with the rows it reads. (The shapes show 1 for the batch: the stand-in value recorded while
# building.) Now the "session": run it on real data, as many times and with as many batch sizes
# as you like. Only operations that read a placeholder join the graph; eager code on real
# tensors, like the comparison on the last line, runs as usual.

# %%
small = graph.run(probabilities, feed={x: batch})
large = graph.run(probabilities, feed={x: nf.randn(100, 64)})
print("5 images ->", tuple(small.shape), "  100 images ->", tuple(large.shape))
print("same as eager:", (small - model(batch).softmax(dim=1)).abs().max().item())

# %% [markdown]
# The catch of this style: until `run`, there are no numbers. You can't print the hidden layer
# while building, and a bug shows up at run time, far from the line that caused it. That pain is
# why PyTorch's eager style won over researchers.
#
# ## Tracing: eager code in, a graph out
#
# The best of both: write eager code, then let the framework record one run of it into a graph.
# `nf.jit.trace(model, example_input)` does that (like `torch.jit.trace`, or TensorFlow 2's
# `tf.function`) and returns a `GraphModule` you call like the model:

# %%
traced = nf.jit.trace(model, batch)
print(traced)
print("traced == eager:", (traced(batch) - model(batch)).abs().max().item())

# %% [markdown]
# Like `tf.function`, a traced graph is specialised to its input's shape and dtype; a call with a
# new shape records a new graph (and keeps both). Gradients flow through it as through the model:

# %%
other = nf.randn(7, 64)
loss = traced(other).sum()
loss.backward()
print("a batch of 7 works too; gradient of the first weight:", tuple(model[0].weight.grad.shape))
model.zero_grad()

# %% [markdown]
# ## What a compiler does with a graph
#
# Seeing the whole computation before running it lets the framework rewrite it. Each
# rewrite is a **pass** over the graph. This function is written carelessly on purpose: it
# multiplies two constants on every call, computes the same expression twice, and computes
# something it never uses.

# %%
def careless(x):
    scale = nf.tensor(2.0) * nf.tensor(3.0)   # the same constant every call
    h = x * scale
    a = h * nf.sigmoid(h)                      # computed twice
    b = h * nf.sigmoid(h)
    unused = h.exp()                           # never used
    return (a + b).tanh()


plain = nf.jit.trace(careless, nf.randn(4, 8), passes=())
print(plain)

# %%
optimised = nf.jit.trace(careless, nf.randn(4, 8),
                         passes=("dce", "cse", "constant_folding", "fusion", "buffer_reuse"))
print(optimised)

# %% [markdown]
# What each pass did, as reported below each table:
#
# - **dead-code elimination** (`dce`) removed the unused `exp`;
# - **common-subexpression elimination** (`cse`) computes `h * sigmoid(h)` once;
# - **constant folding** computed `2.0 * 3.0` once, at trace time;
# - **fusion** merges chains of element-wise operations into one kernel: on a GPU that is one
#   pass over memory instead of several, which is where most of the time goes;
# - **buffer reuse** writes results into memory allocated once, not on every call.
#
# An eager framework can't do any of this: it only ever sees one operation at a time.
#
# ## Where a static graph goes wrong: data-dependent control flow
#
# A trace records what happened on *one* run. Python `if`s and loops that depend on the
# *values* in a tensor are decided during that run and frozen into the graph:

# %%
def absolute_sum(x):
    if x.sum() > 0:          # a decision that depends on the data
        return x.sum()
    return -x.sum()


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced_abs = nf.jit.trace(absolute_sum, nf.ones(3))   # traced with a positive input
print("warning:", caught[0].message if caught else "none")

negative = -nf.ones(3)
print("eager: ", absolute_sum(negative).item())
print("traced:", traced_abs(negative).item(), " <- wrong: the graph only knows the positive branch")

# %% [markdown]
# The tracer warns, pointing at the operation that turned a tensor into a Python value. The
# eager function is right for every input, because it *is* Python. This is why models with
# data-dependent structure — sequences of varying length (tutorial 09), trees, early exits,
# beam search — were the reason define-by-run was invented. Fixes in a static world: write the
# branch as tensor operations (`nf.where(x.sum() > 0, x.sum(), -x.sum())` is one graph for both
# cases), or keep that part eager.
#
# ## Speed: a whole training step as one graph
#
# `nf.jit.compile_step(model, loss_fn, optimizer)` traces forward, backward and the optimiser's
# update into one program. It runs on raw arrays, frees every value right after its last use and
# reuses big buffers (a convolution's column matrix) from step to step. What that saves is the
# bookkeeping around the arithmetic, not the arithmetic: the matrix products run the same way in
# both styles and take most of a step. nbframe's eager engine is already lean, so on a model this
# size expect a few percent; a framework with heavier per-operation overhead gains more.

# %%
def time_per_step(step, repeats=200):
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1e6


images, labels = nf.randn(32, 64), nf.randint(0, 10, (32,))
optimizer = nf.optim.SGD(model.parameters(), lr=0.01)


def eager_step():
    optimizer.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    optimizer.step()


compiled = nf.jit.compile_step(model, F.cross_entropy, optimizer)
print(f"eager step:    {time_per_step(eager_step):6.0f} µs")
print(f"compiled step: {time_per_step(lambda: compiled(images, labels)):6.0f} µs")

# %% [markdown]
# (Timings vary from machine to machine and run to run; here the two are close. The same graph is
# what gets exported for deployment, in tutorial 10.)
#
# ## When each style wins
#
# | | eager (define-by-run) | static (define-then-run, traced) |
# | --- | --- | --- |
# | writing and debugging | print, `if`, `pdb` anywhere | numbers only at run time |
# | data-dependent structure | natural | frozen at trace time; rewrite as tensor ops |
# | optimisation | one op at a time | whole-graph passes: fusion, folding, memory planning |
# | deployment | needs Python | the graph can be exported (ONNX) and run without Python |
#
# The common practice today: develop eagerly, then trace or compile the finished model for
# speed and deployment.
#
# ## Exercise
#
# 1. Rewrite `absolute_sum` without a Python `if` (hint: `nf.where`, or simply `.abs()` of the
#    sum), trace it with a positive input, and check that the traced version is right for
#    negative inputs too.
# 2. A loop with a fixed count is fine to trace: it is *unrolled*. Trace
#    `def repeat(x): for _ in range(3): x = x.tanh(); return x` and count the `tanh` rows in its
#    table.

# %% [solution]
def absolute_sum_as_tensor_ops(x):
    total = x.sum()
    return nf.where(total > 0, total, -total)


traced_fixed = nf.jit.trace(absolute_sum_as_tensor_ops, nf.ones(3))
print("traced, negative input:", traced_fixed(-nf.ones(3)).item())


def repeat(x):
    for _ in range(3):
        x = x.tanh()
    return x


print(nf.jit.trace(repeat, nf.ones(2)))
