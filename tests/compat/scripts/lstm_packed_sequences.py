"""An LSTM classifier on variable-length token sequences, packed with ``pack_padded_sequence``.

The label compares a sequence's first and last tokens (smaller, equal, larger): the model must
carry the first token to the true end of each sequence, which only works when padding is skipped.
"""

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
VOCAB, PAD = 6, 0  # tokens 1..5, 0 pads


class SequenceDataset(Dataset):
    def __init__(self, n, seed):
        rng = np.random.RandomState(seed)
        self.sequences = [torch.tensor(rng.randint(1, VOCAB, size=rng.randint(2, 13))) for _ in range(n)]
        self.labels = [int(np.sign(s[0].item() - s[-1].item())) + 1 for s in self.sequences]

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, idx):
        return self.sequences[idx], self.labels[idx]


def collate(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    return pad_sequence(sequences, batch_first=True, padding_value=PAD), lengths, torch.tensor(labels)


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden_dim=32, num_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=2, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden_dim + embed_dim, num_classes)

    def forward(self, tokens, lengths):
        embedded = self.embedding(tokens)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        output, output_lengths = pad_packed_sequence(packed_out, batch_first=True)
        assert torch.equal(output_lengths, lengths)
        assert output.shape[:2] == tokens.shape[:2]
        return self.head(torch.cat([h_n[-1], embedded[:, 0]], dim=1))


train_loader = DataLoader(SequenceDataset(1200, seed=1), batch_size=32, shuffle=True, collate_fn=collate)
test_loader = DataLoader(SequenceDataset(400, seed=2), batch_size=100, collate_fn=collate)
model = LSTMClassifier(VOCAB)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()

for epoch in range(6):
    model.train()
    total_loss = 0.0
    for tokens, lengths, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(tokens, lengths), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        total_loss += loss.item()
    print(f"epoch {epoch}: loss {total_loss / len(train_loader):.4f}")

model.eval()
correct = total = 0
with torch.no_grad():
    for tokens, lengths, labels in test_loader:
        correct += (model(tokens, lengths).argmax(1) == labels).sum().item()
        total += labels.numel()
assert model.embedding.weight[PAD].abs().sum().item() == 0
print(f"accuracy: {correct / total:.4f}")
