"""Every kernels/*.cu compiles the way CuPy will compile it, with no GPU needed.

NVRTC through ``cupy.cuda.nvrtc`` (createProgram / compileProgram / getPTX) with exactly the text,
options and name expressions that ``nbframe.kernels.loader`` gives ``cupy.RawModule``, for
compute_80 and compute_90; and ``nvcc -ptx`` on the file itself when nvcc is on PATH.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess

import pytest
from nbframe.kernels import loader

ARCHES = ("compute_80", "compute_90")
STEMS = loader.kernel_files()


@pytest.fixture(scope="module")
def nvrtc():
    pytest.importorskip("cupy")
    try:
        return loader.load_nvrtc()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def _nvrtc_ptx(nvrtc, source: str, filename: str, expressions, arch: str) -> str:
    program = nvrtc.createProgram(source, filename, [], [])
    try:
        for expression in expressions:
            nvrtc.addNameExpression(program, expression)
        try:
            nvrtc.compileProgram(program, [*loader.COMPILE_OPTIONS, f"--gpu-architecture={arch}"])
        except nvrtc.NVRTCError as exc:
            log = nvrtc.getProgramLog(program)
            pytest.fail(f"NVRTC could not compile {filename} for {arch}:\n{log}\n{exc}")
        for expression in expressions:
            assert nvrtc.getLoweredName(program, expression), expression
        ptx = nvrtc.getPTX(program)
        return ptx.decode() if isinstance(ptx, bytes) else ptx
    finally:
        nvrtc.destroyProgram(program)


def test_every_cu_file_is_registered_with_name_expressions():
    assert set(STEMS) == set(loader.NAME_EXPRESSIONS)


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("stem", STEMS)
def test_kernel_compiles_with_nvrtc(nvrtc, stem, arch):
    expressions = loader.name_expressions(stem)
    ptx = _nvrtc_ptx(nvrtc, loader.kernel_source(stem), f"{stem}.cu", expressions, arch)
    assert ptx.count(".entry") == len(expressions)


def test_kernel_sources_need_no_host_headers():
    for stem in STEMS:
        source = re.sub(r"//[^\n]*", "", loader.kernel_source(stem))  # code only, not comments
        assert "#include" not in source, f"{stem}.cu still includes a header after pasting"
        for host_only in ("INFINITY", "math.h", "cstdint", "uint32_t", "int64_t"):
            assert host_only not in source, f"{stem}.cu uses {host_only}, which NVRTC lacks"


@pytest.mark.parametrize("arch", ARCHES)
def test_fusion_template_compiles_a_generated_expression(nvrtc, arch):
    prelude = loader.fused_prelude("a0 * ((A)1 / ((A)1 + exp(-a1))) + tanh(a2) * sqrt(a0 * a0)", 3)
    source = loader.kernel_source("elementwise_fusion", prelude)
    _nvrtc_ptx(nvrtc, source, "fused.cu", loader.name_expressions("elementwise_fusion"), arch)


@pytest.mark.parametrize("arch", ARCHES)
def test_every_expression_the_jit_fusion_pass_generates_compiles(nvrtc, arch):
    """Each C template of nbframe.jit's fusion pass, nested once, through the fusion kernel."""
    fusion = importlib.import_module("nbframe.jit.passes.fusion")
    expression = "a0"
    for i, template in enumerate(fusion._C.values()):
        expression = template.format(expression, f"a{1 + i % 7}")
    source = loader.kernel_source("elementwise_fusion", loader.fused_prelude(expression, 8))
    _nvrtc_ptx(nvrtc, source, "jit_fused.cu", loader.name_expressions("elementwise_fusion"), arch)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
@pytest.mark.parametrize("stem", STEMS)
def test_kernel_compiles_with_nvcc(stem, tmp_path):
    """The .cu file itself (headers through -I), every template instance forced by taking its address."""
    unit = tmp_path / f"{stem}_instances.cu"
    taken = "".join(f"    (void)&{expression};\n" for expression in loader.name_expressions(stem))
    unit.write_text(f'#include "{stem}.cu"\nvoid nbframe_instantiate() {{\n{taken}}}\n')
    result = subprocess.run(
        ["nvcc", "-ptx", "-arch=compute_80", *loader.COMPILE_OPTIONS, f"-I{loader.KERNEL_DIR}", str(unit),
         "-o", str(tmp_path / f"{stem}.ptx")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"{stem}.ptx").read_text().count(".entry") == len(loader.name_expressions(stem))


def test_importing_nbframe_kernels_does_not_import_cupy():
    code = "import sys, nbframe, nbframe.kernels, nbframe.cuda; assert 'cupy' not in sys.modules"
    subprocess.run([__import__("sys").executable, "-c", code], check=True, timeout=120)
