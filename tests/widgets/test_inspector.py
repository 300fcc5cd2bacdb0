import xml.etree.ElementTree as ET

from nbframe.widgets import TensorInspector

import nbframe as nf


def _record():
    x = nf.tensor([1.0, -1.0, 0.0, 4.0], requires_grad=True)
    with nf.debug.watch() as record:
        y = x.reshape(2, 2).log()
        z = (y * 2).sum()
    return record, z


def test_watch_records_each_op_with_shapes_stats_and_the_calling_line():
    record, _ = _record()
    assert [r.op for r in record][:2] == ["reshape", "log"]
    log = record[1]
    assert log.outputs == [((2, 2), "float32")] and log.stats["nan"] == 1 and log.stats["inf"] == 1
    assert log.filename == __file__ and log.line is not None
    assert record.first_bad() is log


def test_watch_filters_ops_by_pattern():
    x = nf.randn(3, requires_grad=True)
    with nf.debug.watch(ops="exp|sum") as record:
        (x.exp() * 3).sum()
    assert [r.op for r in record] == ["exp", "sum"]


def test_the_inspector_filters_by_op_shape_and_nan():
    record, _ = _record()
    inspector = TensorInspector(record)
    assert [r.op for r in inspector.filtered(op="log")] == ["log"]
    assert all(r.outputs[0][0] == (2, 2) for r in inspector.filtered(shape="2, 2"))
    assert [r.op for r in inspector.filtered(bad_only=True)][:1] == ["log"]
    assert inspector.filtered(op="[") == []  # not a regex: matched literally, no error


def test_jump_to_the_first_bad_value_selects_it_and_shows_a_histogram():
    record, _ = _record()
    inspector = TensorInspector(record)
    inspector.widget  # noqa: B018
    found = inspector.first_bad()
    assert found.op == "log" and inspector.selected == found.index
    details = inspector._parts["details"].value
    assert 'class="bar"' in details and "NaN/Inf left out" in details


def test_the_widget_filters_update_the_table():
    record, _ = _record()
    inspector = TensorInspector(record)
    inspector.widget  # noqa: B018
    inspector._on_filter("op_filter", "sum")
    assert inspector._parts["table"].value.count("<tr") == 2  # the header and the one sum row
    assert len(inspector._parts["picker"].options) == 1


def test_the_display_carries_html_and_text_fallbacks():
    record, _ = _record()
    bundle = TensorInspector(record)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "log" in bundle["text/plain"] and "<table" in bundle["text/html"]


def test_a_histogram_of_a_tensor_is_well_formed_svg():
    record, _ = _record()
    ET.fromstring(TensorInspector(record).details(record[0].index).split("</table>")[1][:-6])
