"""Where nbframe deliberately does not follow PyTorch, a script stops with an error naming what is missing."""

from __future__ import annotations

import pytest

import nbframe as nf
from nbframe.utils.data import DataLoader, TensorDataset


def test_dataloader_workers_are_refused_by_name():
    with pytest.raises(NotImplementedError, match="num_workers=2.*main process only"):
        DataLoader(TensorDataset(nf.zeros(4, 2)), batch_size=2, num_workers=2)


def test_saving_a_whole_model_is_refused_with_the_state_dict_way_out(tmp_path):
    with pytest.raises(TypeError, match="can't save obj"):
        nf.save(nf.nn.Linear(2, 2), tmp_path / "model.pt")


def test_bfloat16_on_the_cpu_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        nf.zeros(2, dtype=nf.bfloat16)


def test_differentiable_optimizer_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        nf.optim.SGD(nf.nn.Linear(2, 2).parameters(), lr=0.1, differentiable=True)
