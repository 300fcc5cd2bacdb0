"""nf.save / nf.load: round trips, atomic writes, and refusal of pickles and foreign files."""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import nbframe as nf
from nbframe import io as nfio
from nbframe.io import RefusedFileError


def _equal(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, nf.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _equal(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _round_trip(obj, tmp_path):
    path = tmp_path / "checkpoint.nbf"
    nf.save(obj, path)
    return nf.load(path)


def test_state_dict_round_trips_with_dtypes_and_order(tmp_path):
    sd = OrderedDict([("fc.weight", nf.randn(3, 4)), ("fc.bias", nf.zeros(3, dtype=nf.float64)),
                      ("bn.num_batches_tracked", nf.tensor(7)), ("mask", nf.tensor([True, False])),
                      ("half", nf.ones(2, dtype=nf.float16)), ("scalar", nf.tensor(2.5)),
                      ("empty", nf.zeros(0, 3)), ("bytes", nf.tensor([1, 2], dtype=nf.uint8))])
    _equal(_round_trip(sd, tmp_path), sd)


def test_nested_structures_and_plain_values_round_trip(tmp_path):
    obj = {"epoch": 3, "lr": 0.1, "best": float("inf"), "nan": float("nan"), "name": "run-1",
           "flags": [True, False, None], "pair": (1, "two", 3.0), "nested": {"deep": [{"x": nf.ones(2)}]},
           4: "int key", (1, 2): "tuple key", "array": np.arange(6).reshape(2, 3), "dtype": nf.float16,
           "device": nf.device("cpu"), "neg": -2**40}
    _equal(_round_trip(obj, tmp_path), obj)


def test_optimizer_style_state_dict_with_integer_keys_round_trips(tmp_path):
    state = {"state": {0: {"step": nf.tensor(3.0), "exp_avg": nf.randn(2, 2)}, 1: {}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}]}
    _equal(_round_trip(state, tmp_path), state)


def test_parameters_and_requires_grad_come_back(tmp_path):
    p = nf.nn.Parameter(nf.randn(3))
    frozen = nf.nn.Parameter(nf.randn(3), requires_grad=False)
    leaf = nf.ones(2, requires_grad=True)
    back = _round_trip({"p": p, "frozen": frozen, "leaf": leaf}, tmp_path)
    assert isinstance(back["p"], nf.nn.Parameter) and back["p"].requires_grad
    assert isinstance(back["frozen"], nf.nn.Parameter) and not back["frozen"].requires_grad
    assert type(back["leaf"]) is nf.Tensor and back["leaf"].requires_grad


def test_a_tensor_saved_twice_loads_as_one_object(tmp_path):
    t = nf.randn(4)
    back = _round_trip({"a": t, "b": [t]}, tmp_path)
    assert back["a"] is back["b"][0]


def test_module_state_dict_reloads_into_a_fresh_module(tmp_path):
    def make():
        model = nf.nn.Module()
        model.weight = nf.nn.Parameter(nf.randn(2, 3))
        model.register_buffer("steps", nf.tensor(0))
        return model

    model = make()
    nf.save(model.state_dict(), tmp_path / "model.nbf")
    fresh = make()
    fresh.load_state_dict(nf.load(tmp_path / "model.nbf"))
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), model.weight.detach().numpy())


def test_file_objects_and_str_paths_work(tmp_path):
    buffer = io.BytesIO()
    nf.save({"x": nf.arange(3)}, buffer)
    buffer.seek(0)
    assert nf.load(buffer)["x"].tolist() == [0, 1, 2]
    path = str(tmp_path / "no_suffix")
    nf.save([1, 2], path)
    assert os.path.exists(path) and not os.path.exists(path + ".npz")  # numpy.savez's suffix trap avoided
    assert nf.load(path) == [1, 2]
    with open(path, "rb") as handle:
        assert nf.load(handle) == [1, 2]


def test_the_file_is_an_npz_with_a_json_header(tmp_path):
    nf.save({"w": nf.ones(2)}, tmp_path / "f")
    with np.load(tmp_path / "f", allow_pickle=False) as archive:
        header = json.loads(archive["__nbframe__"].tobytes())
        assert header["format"] == "nbframe" and header["version"] == 1
        key = header["root"]["dict"][0][1]["tensor"]
        np.testing.assert_array_equal(archive[key], np.ones(2, dtype=np.float32))


def test_map_location(tmp_path):
    nf.save({"w": nf.ones(2)}, tmp_path / "f")
    assert nf.load(tmp_path / "f", map_location="cpu")["w"].device == nf.device("cpu")
    assert nf.load(tmp_path / "f", map_location={"cuda:0": "cpu"})["w"].device == nf.device("cpu")
    assert nf.load(tmp_path / "f", map_location=lambda loc: "cpu")["w"].device == nf.device("cpu")
    assert nf.load(tmp_path / "f", weights_only=True)["w"].tolist() == [1.0, 1.0]


def test_cuda_tensors_without_cuda_need_map_location(tmp_path, monkeypatch):
    from nbframe.backend import cuda

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    buffer = io.BytesIO()
    nf.save({"w": nf.ones(2)}, buffer)
    patched = _rewrite_header(buffer.getvalue(), lambda h: h["root"]["dict"][0][1].update(device="cuda:0"))
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        nf.load(io.BytesIO(patched))
    assert nf.load(io.BytesIO(patched), map_location="cpu")["w"].tolist() == [1.0, 1.0]


def _rewrite_header(raw: bytes, edit) -> bytes:
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays["__nbframe__"].tobytes())
    edit(header)
    arrays["__nbframe__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


# ----------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_save_leaves_the_old_checkpoint_intact_and_no_temp_files(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.nbf"
    nf.save({"version": 1}, path)
    before = path.read_bytes()

    def crash_mid_write(handle, arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise failure

    monkeypatch.setattr(nfio, "_write_archive", crash_mid_write)
    with pytest.raises(type(failure)):
        nf.save({"version": 2}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.nbf"]
    monkeypatch.undo()
    assert nf.load(path) == {"version": 1}


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(nfio, "_write_archive", lambda handle, arrays: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        nf.save({"a": 1}, tmp_path / "new.nbf")
    assert os.listdir(tmp_path) == []


def test_saved_files_get_ordinary_permissions_not_the_temp_files(tmp_path):
    umask = os.umask(0o022)
    try:
        nf.save({"a": 1}, tmp_path / "new.nbf")
        assert (tmp_path / "new.nbf").stat().st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "new.nbf", 0o640)
        nf.save({"a": 2}, tmp_path / "new.nbf")
        assert (tmp_path / "new.nbf").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_unsaveable_objects_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"can't save obj\['model'\]\[1\], an object of type "
                                        r"nbframe.nn.module.Module"):
        nf.save({"model": [1, nf.nn.Module()]}, tmp_path / "f")
    with pytest.raises(TypeError, match="NumPy array of Python objects"):
        nf.save({"a": np.array([object()])}, tmp_path / "f")
    with pytest.raises(TypeError, match="dict key of type"):
        nf.save({frozenset(): 1}, tmp_path / "f")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- refusing foreign files
class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_is_refused_and_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Boom()))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(RefusedFileError, match="it is a Python pickle.*never unpickles"):
        nf.load(path)


def test_a_pytorch_checkpoint_is_refused_with_how_to_convert(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(RefusedFileError, match=r"PyTorch checkpoint.*nf\.tensor\(v\.cpu\(\)\.numpy\(\)\)"):
        nf.load(path)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RefusedFileError, match="pickle"):
        nf.load(legacy)


@pytest.mark.parametrize("content, reason", [
    (b"", "not an nbframe checkpoint"),
    (b"hello world, plain text", "not an nbframe checkpoint"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}      ", "safetensors"),
    (b"PK\x03\x04truncated", "damaged or truncated zip"),
])
def test_foreign_files_are_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "f"
    path.write_bytes(content)
    with pytest.raises(RefusedFileError, match=reason):
        nf.load(path)


def test_a_plain_npz_is_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(RefusedFileError, match="without nbframe's header"):
        nf.load(tmp_path / "plain.npz")


def test_an_object_array_smuggled_into_an_archive_is_not_unpickled(tmp_path):
    buffer = io.BytesIO()
    nf.save({"w": nf.ones(2)}, buffer)
    raw = buffer.getvalue()
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["t0"] = np.array([_Boom()], dtype=object)
    evil = io.BytesIO()
    np.savez(evil, **arrays)  # numpy pickles the object array when writing
    with pytest.raises(RefusedFileError, match="holds pickled Python objects"):
        nf.load(io.BytesIO(evil.getvalue()))


def test_damaged_and_newer_headers_are_clear_errors():
    buffer = io.BytesIO()
    nf.save({"w": nf.ones(2)}, buffer)
    newer = _rewrite_header(buffer.getvalue(), lambda h: h.update(version=99))
    with pytest.raises(ValueError, match="format version 99 by a newer nbframe"):
        nf.load(io.BytesIO(newer))
    missing = _rewrite_header(buffer.getvalue(), lambda h: h["root"]["dict"][0][1].update(tensor="t7"))
    with pytest.raises(ValueError, match="damaged: its header names array 't7'"):
        nf.load(io.BytesIO(missing))
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert "__nbframe__.npy" in archive.namelist()


def test_pathlib_and_missing_files():
    with pytest.raises(FileNotFoundError):
        nf.load(pathlib.Path("/nonexistent/checkpoint.nbf"))
