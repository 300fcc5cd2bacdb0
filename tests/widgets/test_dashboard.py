import io
import xml.etree.ElementTree as ET

import pytest
from nbframe.widgets import TrainingDashboard
from nbframe.widgets.svg import Series, histogram, line_chart

import nbframe as nf

SVG = "{http://www.w3.org/2000/svg}"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _polylines(svg: str) -> dict[str, list[tuple[float, float]]]:
    root = ET.fromstring(svg)
    return {line.get("data-name"): [tuple(map(float, p.split(","))) for p in line.get("points").split()]
            for line in root.iter(f"{SVG}polyline")}


def test_line_chart_draws_one_point_per_value_and_higher_values_higher():
    svg = line_chart([Series("loss", [(1, 3.0), (2, 2.0), (3, 1.0)])])
    points = _polylines(svg)["loss"]
    assert len(points) == 3
    assert points[0][1] < points[1][1] < points[2][1]  # SVG y grows downwards
    assert points[0][0] < points[1][0] < points[2][0]


def test_line_chart_is_deterministic_and_skips_non_finite_values():
    series = [Series("a", [(0, 1.0), (1, float("nan")), (2, 0.5)])]
    assert line_chart(series) == line_chart(series)
    assert len(_polylines(line_chart(series))["a"]) == 2
    assert len(_polylines(line_chart([Series("a", [(0, 1.0), (1, 0.0)])], log_y=True))["a"]) == 1


def test_histogram_has_one_bar_per_bin_and_counts_nan():
    svg = histogram([0.0, 1.0, 2.0, float("nan")], bins=4, title="x")
    root = ET.fromstring(svg)
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]) == 4
    assert "1 NaN/Inf left out" in svg


def test_log_adds_points_to_the_step_curve():
    dash = TrainingDashboard(text_stream=io.StringIO())
    for step in range(1, 6):
        dash.log(step, loss=1.0 / step)
    assert len(_polylines(dash.svg())["loss (step)"]) == 5


def test_redraws_are_throttled_in_time_plus_every_epoch_end():
    clock = FakeClock()
    dash = TrainingDashboard(throttle=0.3, clock=clock, text_stream=io.StringIO())
    for step in range(100):  # 100 steps in 1 s of fake time: ~1 redraw per 0.3 s
        clock.now = step * 0.01
        dash.log(step, loss=1.0)
    assert dash.redraws == 4  # t = 0, 0.3, 0.6, 0.9
    dash.log_epoch(1, loss=1.0)
    assert dash.redraws == 5


def test_epoch_curves_train_and_validation_with_the_best_epoch_marked():
    dash = TrainingDashboard(text_stream=io.StringIO())
    for epoch, (train, val) in enumerate([(1.0, 0.9), (0.6, 0.5), (0.4, 0.7)], start=1):
        dash.log(epoch * 10, loss=train)
        dash.log_epoch(epoch, loss=train, val_loss=val)
    svg = dash.svg()
    lines = _polylines(svg)
    assert len(lines["loss"]) == 3 and len(lines["val_loss"]) == 3
    markers = [c for c in ET.fromstring(svg).iter(f"{SVG}circle") if c.get("class") == "marker"]
    assert len(markers) == 1 and markers[0].get("data-name") == "val_loss"
    assert "best epoch 2 (val_loss 0.5)" in dash.status()


def test_several_runs_overlay_in_one_dashboard():
    nf.manual_seed(0)
    x = nf.randn(64, 4)
    y = (x[:, 0] > 0).long()
    dash = TrainingDashboard(text_stream=io.StringIO())
    for lr in (1e-2, 1e-3):
        model = nf.nn.Linear(4, 2)
        nf.fit(model, (x, y), epochs=2, lr=lr, progress=dash, run=f"lr={lr}")
    assert list(dash.runs) == ["lr=0.01", "lr=0.001"]
    names = set(_polylines(dash.svg()))
    assert {"lr=0.01: loss", "lr=0.001: loss", "lr=0.01: accuracy (step)"} <= names


def test_log_scale_toggle_redraws_with_log_axis():
    dash = TrainingDashboard(text_stream=io.StringIO())
    for step, value in enumerate([1.0, 0.1, 0.01], start=1):
        dash.log(step, loss=value)
    linear = _polylines(dash.svg())["loss (step)"]
    dash.widget  # noqa: B018  (builds the ipywidgets view)
    dash._parts["scale"].value = True
    log = _polylines(dash._parts["charts"].value)["loss (step)"]
    assert dash.log_scale
    # on a log axis the three values are evenly spaced; on a linear one they are not
    assert abs((log[0][1] - log[1][1]) - (log[1][1] - log[2][1])) < 0.2
    assert abs((linear[0][1] - linear[1][1]) - (linear[1][1] - linear[2][1])) > 10


def test_the_stop_button_requests_a_stop_that_fit_honours():
    nf.manual_seed(0)
    x, y = nf.randn(64, 4), nf.zeros(64).long()
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    stop = nf.train.LambdaCallback(on_step_end=lambda trainer, step, logs: step == 3 and dash._on_stop())
    history = nf.fit(nf.nn.Linear(4, 2), (x, y), epochs=5, batch_size=8, progress=dash, callbacks=[stop])
    assert len(history.steps) == 3 and history.stopped == "stop button"
    assert dash._parts["stop"].disabled
    assert "stopped: stop button" in dash.status()


def test_the_display_carries_a_static_svg_and_text_fallback():
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.log(1, loss=0.5)
    bundle = dash._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    ET.fromstring(bundle["image/svg+xml"])
    assert "step 1" in bundle["text/plain"]


def test_outside_a_kernel_log_prints_a_text_progress_line():
    stream = io.StringIO()
    dash = TrainingDashboard(text_stream=stream, throttle=0)
    dash.log(7, loss=0.25)
    assert "step 7" in stream.getvalue()


@pytest.mark.parametrize("count", [10_000])
def test_long_step_curves_are_thinned_to_a_bounded_number_of_points(count):
    dash = TrainingDashboard(text_stream=io.StringIO(), throttle=float("inf"))
    for step in range(count):
        dash.log(step, loss=1.0)
    assert len(_polylines(dash.svg())["loss (step)"]) == 400


def _tick_texts(svg: str) -> list[ET.Element]:
    return [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "tick"]


@pytest.mark.parametrize("last_step", [1200, 1600, 16_000])
def test_long_run_x_ticks_share_one_format_and_stay_inside_the_picture(last_step):
    width = 360
    svg = line_chart([Series("loss", [(0, 1.0), (last_step, 0.5)])], width=width)
    labels = [t for t in _tick_texts(svg) if t.get("text-anchor") == "middle"]  # the x axis
    texts = [t.text for t in labels]
    assert not any("e+" in text for text in texts), texts
    assert all(text.endswith("k") for text in texts if text != "0") or all(text.isdigit() for text in texts)
    for label in labels:  # centred text: half its estimated width either side of x
        half = 6 * len(label.text) / 2
        assert half <= float(label.get("x")) <= width - half, (label.text, label.get("x"))


def test_y_ticks_need_only_the_decimals_their_step_has():
    svg = line_chart([Series("loss", [(0, 0.2), (1, 0.8)])])
    assert [t.text for t in _tick_texts(svg) if t.get("text-anchor") == "end"] == ["0.2", "0.4", "0.6", "0.8"]


def test_a_partial_epoch_is_squared_and_never_the_best():
    dash = TrainingDashboard(text_stream=io.StringIO())
    for epoch, loss in enumerate([1.0, 0.6, 0.2], start=1):
        dash.log(epoch * 10, loss=loss)
        dash.log_epoch(epoch, loss=loss, partial=epoch == 3)
    root = ET.fromstring(dash.svg())
    partial = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "partial"]
    assert len(partial) == 1 and partial[0].get("data-name") == "loss"
    assert "best epoch 2 (loss 0.6)" in dash.status() and "epoch 3 partial" in dash.status()


def test_fit_stopped_mid_epoch_marks_the_epoch_partial_on_the_dashboard():
    nf.manual_seed(0)
    x, y = nf.randn(64, 4), nf.zeros(64).long()
    dash = TrainingDashboard(text_stream=io.StringIO())
    stop = nf.train.LambdaCallback(on_step_end=lambda trainer, step, logs: step == 10 and dash._on_stop())
    history = nf.fit(nf.nn.Linear(4, 2), (x, y), epochs=5, batch_size=8, progress=dash, callbacks=[stop])
    assert history.partial_epoch == 2 and dash.current.partial_epoch == 2
    assert dash.best_epoch(dash.current)[1] == 1


def test_outside_a_kernel_the_dashboard_says_to_use_the_interrupt_instead_of_stop():
    dash = TrainingDashboard(text_stream=io.StringIO())
    dash.widget  # noqa: B018
    assert not dash.stop_works
    assert "Interrupt" in dash._parts["note"].value


class _FakeSubshells:
    """The two ipykernel 7 pieces the Stop routing uses: the shell-channel loop and subshell creation."""

    def __init__(self):
        self.made = []
        self._shell_channel_io_loop = self

    def add_callback(self, function):  # run at once, as the shell-channel thread would soon
        function()

    def _create_subshell(self):
        self.made.append(f"sub{len(self.made)}")
        return self.made[-1]

    def list_subshell(self):
        return list(self.made)


def test_the_stop_buttons_comm_is_pinned_to_one_subshell_per_kernel():
    from types import SimpleNamespace

    from nbframe.widgets.dashboard import _route_to_subshell

    manager = _FakeSubshells()
    kernel = SimpleNamespace(shell_channel_thread=SimpleNamespace(manager=manager))
    comms = [SimpleNamespace(kernel=kernel, _reply_subshell_for=lambda data, default: default) for _ in "ab"]
    assert all(_route_to_subshell(comm) for comm in comms)
    assert manager.made == ["sub0"] and [c._reply_subshell_id for c in comms] == ["sub0", "sub0"]
    assert not _route_to_subshell(SimpleNamespace(kernel=SimpleNamespace(shell_channel_thread=None)))


def _charts(svg: str) -> list[tuple[ET.Element, float, float]]:
    """Each chart group of a dashboard picture with its (x, y) translation."""
    root = ET.fromstring(svg)
    return [(g, *map(float, g.get("transform")[len("translate("):-1].split(",")))
            for g in root if g.tag == f"{SVG}g"]


def _legend_entries(chart: ET.Element, dx: float = 0, dy: float = 0) -> list[tuple[str, float, float]]:
    """(text, x, baseline y) of every legend label of one chart, shifted by (dx, dy)."""
    texts = [g.find(f"{SVG}text") for g in chart if g.get("class") == "legend"]
    return [(t.text, dx + float(t.get("x")), dy + float(t.get("y"))) for t in texts]


def test_legends_show_every_long_run_name_in_full_inside_the_picture_and_above_the_curves():
    from nbframe.widgets.svg import text_width

    dash = TrainingDashboard(text_stream=io.StringIO())
    names = ["SGD + momentum 0.9", "Adam, lr=3e-4 with warm-up", "RMSprop (centered)"]
    for k, name in enumerate(names):
        dash.new_run(name)
        for epoch in (1, 2):
            dash.log(epoch * 10, loss=1.0 / (epoch + k), accuracy=0.5 + 0.1 * epoch)
            dash.log_epoch(epoch, loss=1.0 / (epoch + k), val_loss=1.2 / (epoch + k), accuracy=0.6)
    svg = dash.svg()
    width = float(ET.fromstring(svg).get("width"))
    (loss, x0, y0), (accuracy, x1, y1) = _charts(svg)
    entries = _legend_entries(loss, x0, y0)
    expected = {f"{name}: {metric}" for name in names for metric in ("loss", "val_loss")}
    assert {text for text, _, _ in entries} == expected
    assert all(x + text_width(text) <= x1 for text, x, _ in entries)  # inside its own chart
    assert all(x + text_width(text) <= width for text, x, _ in _legend_entries(accuracy, x1, y1))
    assert len({y for _, _, y in entries}) > 1  # wrapped onto several rows rather than cut
    for chart in (loss, accuracy):  # every label above the plot area, every curve inside it
        plot_top = min(float(line.get("y1")) for axes in chart if axes.get("class") == "axes"
                       for line in axes)
        curves = [float(p.split(",")[1]) for line in chart.iter(f"{SVG}polyline")
                  for p in line.get("points").split()]
        assert all(y <= plot_top for _, _, y in _legend_entries(chart)) and min(curves) >= plot_top
    axes_bottom = {dy + float(line.get("y1")) for chart, _, dy in _charts(svg) for axes in chart
                   if axes.get("class") == "axes" for line in axes[:1]}
    assert len(axes_bottom) == 1  # the charts' x axes line up


def test_a_legend_name_wider_than_the_chart_widens_the_chart():
    from nbframe.widgets.svg import text_width

    name = "a very long experiment name that no 200 px chart could ever hold on one line"
    svg = line_chart([Series(name, [(1, 1.0), (2, 0.5)])], width=200)
    width = float(ET.fromstring(svg).get("width"))
    [(text, x, _)] = _legend_entries(ET.fromstring(svg))
    assert text == name and width > 200 and x + text_width(name) <= width
