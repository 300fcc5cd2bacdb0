# %% [markdown]
# # 09 · Sequences: RNN, LSTM and attention
#
# Images have a fixed size; sentences, time series, DNA and user sessions don't. This notebook
# handles **sequences of different lengths** — the "dynamic inputs" that a framework building its
# graph as your Python runs takes in its stride — with three kinds of layer: recurrent networks
# (RNN), their long-memory variant (LSTM), and attention, the heart of the Transformer.
#
# The task is a toy, so that everything trains in seconds: read a sequence of digits 1–9, of any
# length from 2 to 16, and say which is the **largest**. Easy to state, and the model must look
# at every element whatever the length.

# %%
import nbframe as nf
from nbframe import nn
from nbframe.nn import functional as F
from nbframe.nn.utils.rnn import pack_padded_sequence, pad_sequence

%load_ext nbframe

# %%
def make_sequences(count, shortest=2, longest=16):
    """`count` sequences of digits 1..9, of random lengths, and the largest digit of each.

    The largest digit is drawn first (each of 1..9 equally often), so that always answering "9"
    is right only one time in nine.
    """
    lengths = nf.randint(shortest, longest + 1, (count,))
    labels = nf.randint(1, 10, (count,))
    sequences = []
    for length, largest in zip(lengths.tolist(), labels.tolist()):
        sequence = nf.randint(1, largest + 1, (length,))         # digits up to the largest...
        sequence[int(nf.randint(0, length, (1,)))] = largest     # ...which appears at least once
        sequences.append(sequence)
    return sequences, lengths, labels


nf.manual_seed(0)
train_data = make_sequences(1500)
test_data = make_sequences(500)
for sequence, label in zip(train_data[0][:4], train_data[2][:4]):
    print(f"{sequence.tolist()}  ->  {label.item()}")

# %% [markdown]
# ## Padding and packing
#
# A batch is one tensor, so sequences of different lengths must be made equal: **padding**
# appends a filler token (0 here, which no real sequence uses) to the shorter ones.

# %%
batch = train_data[0][:4]
padded = pad_sequence(batch, batch_first=True)       # (batch, longest length)
print(padded)
print("lengths:", [len(s) for s in batch])

# %% [markdown]
# Padding has a cost and a danger: the model computes on fillers, and a model that reads left to
# right reads the fillers *after* the real sequence, which can wash out what it remembered.
# **Packing** tells a recurrent layer the real lengths, so it stops each sequence at its own
# end. `pack_padded_sequence(padded, lengths)` does that.
#
# Tokens are whole numbers; a network wants vectors. An `nn.Embedding(10, 16)` is a learned
# table with one 16-number vector per token; `padding_idx=0` keeps the filler's vector at zero.

# %%
embedding = nn.Embedding(10, 16, padding_idx=0)
print(tuple(padded.shape), "->", tuple(embedding(padded).shape))

# %% [markdown]
# ## Recurrent networks
#
# An RNN reads a sequence one step at a time, keeping a **hidden state** $h$ — its memory — and
# updating it from each input $x_t$:
#
# $$h_t = \tanh(W x_t + U h_{t-1} + b)$$
#
# The same weights are used at every step, so one network handles any length. After the last
# step, $h$ summarises the whole sequence, and a `Linear` layer turns it into ten scores.
# `nn.RNN` returns the hidden state at every step and the final one:

# %%
rnn = nn.RNN(input_size=16, hidden_size=32, batch_first=True)
outputs, final = rnn(embedding(padded))
print("every step:", tuple(outputs.shape), "  final:", tuple(final.shape), "(layers, batch, hidden)")

# %% [markdown]
# A classifier around it, which can read the batch packed or merely padded, and a small loop that
# trains a model and measures it on the test sequences:

# %%
class RecurrentClassifier(nn.Module):
    def __init__(self, layer="RNN", packed=True, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(10, 16, padding_idx=0)
        self.recurrent = getattr(nn, layer)(16, hidden, batch_first=True)   # nn.RNN or nn.LSTM
        self.head = nn.Linear(hidden, 10)
        self.packed = packed

    def forward(self, tokens, lengths):
        x = self.embed(tokens)
        if self.packed:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, final = self.recurrent(x)
        if isinstance(final, tuple):      # an LSTM returns (h, c)
            final = final[0]
        return self.head(final[-1])


def batches(data, size=64):
    sequences, lengths, labels = data
    for start in range(0, len(sequences), size):
        end = start + size
        yield pad_sequence(sequences[start:end], batch_first=True), lengths[start:end], labels[start:end]


def train_and_test(model, epochs=5, lr=0.01):
    nf.manual_seed(0)
    optimizer = nf.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        for tokens, lengths, labels in batches(train_data):
            loss = F.cross_entropy(model(tokens, lengths), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    correct = 0
    with nf.no_grad():
        for tokens, lengths, labels in batches(test_data):
            correct += (model(tokens, lengths).argmax(dim=1) == labels).sum().item()
    return correct / len(test_data[0])

# %% [markdown]
# Every batch has a different longest length, so every batch makes a graph of a different
# size. Nothing special is needed for that: the graph is recorded as the Python runs (tutorial 07
# contrasts this with frameworks whose graph is fixed before it runs).

# %%
nf.manual_seed(0)
rnn_padded = RecurrentClassifier("RNN", packed=False)
nf.manual_seed(0)
rnn_packed = RecurrentClassifier("RNN", packed=True)
print(f"RNN reading padded batches: {train_and_test(rnn_padded):.1%} test accuracy")
print(f"RNN reading packed batches: {train_and_test(rnn_packed):.1%} test accuracy")

# %% [markdown]
# Same network, same data; packing alone makes the difference (guessing would score about 11%). Padded, the RNN must carry its
# answer through up to 14 steps of filler, and its memory fades.
#
# ## LSTM: a longer memory
#
# A plain RNN rewrites its whole state at every step, and its gradients fade over long
# sequences (the vanishing gradients of tutorial 06, now through time). The **LSTM** (long
# short-term memory) adds a separate *cell state* and learned **gates** that decide what to
# forget, what to write and what to read at each step; information can pass many steps unchanged.
# It is a drop-in replacement:

# %%
nf.manual_seed(0)
lstm_padded = RecurrentClassifier("LSTM", packed=False)
print(f"LSTM reading padded batches: {train_and_test(lstm_padded):.1%} test accuracy")

# %% [markdown]
# Compare with the plain RNN reading the same padded batches: the gates let the LSTM keep its
# answer through the filler. (Pack anyway: it is both faster and exact.)
#
# ## Attention
#
# Recurrent networks read one step at a time. **Attention** lets every position look at every
# other directly: each position asks a question (a *query* vector), every position offers a
# *key* and a *value*, and each position's output is an average of the values, weighted by how
# well its query matches each key:
#
# $$\text{attention}(Q, K, V) = \text{softmax}\!\left(\frac{Q K^T}{\sqrt{d}}\right) V$$
#
# By hand, for one sequence of 4 positions, with the last position being padding — a
# **mask** sets its scores to $-\infty$ before the softmax, so no position attends to it:

# %%
nf.manual_seed(0)
d = 8
x = nf.randn(4, d)
queries, keys, values = x @ nf.randn(d, d), x @ nf.randn(d, d), x @ nf.randn(d, d)
scores = queries @ keys.T / d ** 0.5
padding = nf.tensor([False, False, False, True])
weights = scores.masked_fill(padding, float("-inf")).softmax(dim=-1)
print("attention weights (row: who looks, column: at whom):")
print(weights.round(decimals=2))
print("output:", tuple((weights @ values).shape))

# %% [markdown]
# Each row sums to 1 and the padded column is 0. `nn.MultiheadAttention` does the same with
# learned projections, several "heads" in parallel (each free to look for something different),
# and a `key_padding_mask` for batches:

# %%
attention = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
x = embedding(padded)
output, weights = attention(x, x, x, key_padding_mask=padded == 0)
print("output", tuple(output.shape), "  weights", tuple(weights.shape), "(batch, query, key)")

# %% [markdown]
# ## A tiny Transformer
#
# A **Transformer encoder layer** is attention followed by a small two-layer network applied at
# each position, each with a skip connection and layer normalisation. Stacks of these are behind
# today's language models. Ours has one layer; the sequence's summary is the average of its
# outputs over the real (unpadded) positions.
#
# (Transformers usually add a *positional encoding* to the embeddings, since attention itself
# ignores order. Finding the largest element doesn't depend on order, so we leave it out.)

# %%
class TinyTransformer(nn.Module):
    def __init__(self, width=32, heads=4):
        super().__init__()
        self.embed = nn.Embedding(10, width, padding_idx=0)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.head = nn.Linear(width, 10)

    def forward(self, tokens, lengths):
        padding = tokens == 0
        h = self.encoder(self.embed(tokens), src_key_padding_mask=padding)
        h = h.masked_fill(padding.unsqueeze(-1), 0.0).sum(dim=1) / lengths.unsqueeze(1)
        return self.head(h)


nf.manual_seed(0)
transformer = TinyTransformer()
print(f"tiny Transformer: {train_and_test(transformer, epochs=3):.1%} test accuracy "
      f"({sum(p.numel() for p in transformer.parameters()):,} parameters)")

# %% [markdown]
# ## Exercise
#
# The training sequences were at most 16 long. Give the packed RNN, the padded LSTM and the
# Transformer sequences of length 40 (`make_sequences(200, shortest=40, longest=40)`) and see
# which still find the largest digit. Which would you trust on long inputs?

# %% [solution]
nf.manual_seed(5)
long_sequences, long_lengths, long_labels = make_sequences(200, shortest=40, longest=40)
long_tokens = nf.stack(long_sequences)
for name, model in [("RNN packed", rnn_packed), ("LSTM padded", lstm_padded), ("Transformer", transformer)]:
    with nf.no_grad():
        right = (model(long_tokens, long_lengths).argmax(dim=1) == long_labels).float().mean().item()
    print(f"{name:12} length 40: {right:.1%}")
# Models can fail outside the lengths they were trained on; test on the lengths you will meet.
