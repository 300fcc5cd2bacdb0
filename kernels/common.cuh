// Shared helpers for nbframe's kernels: a half type, the accumulator type, row reductions.
//
// NVRTC has no host headers, so nothing here includes anything: no <math.h>, no <cstdint>,
// no cuda_fp16.h (whose include path depends on how CUDA was installed). The loader pastes this
// file in place of the #include line, so CuPy's compile cache sees every byte that is compiled;
// nvcc finds it with -I kernels/.
#pragma once

// Binary-compatible with numpy.float16 / cupy.float16 (IEEE half); converted with PTX instructions.
struct nbf_half {
    unsigned short bits;
};

// Accumulate half and float in float, double in double.
template <typename T> struct Acc { typedef float type; };
template <> struct Acc<double> { typedef double type; };

__device__ __forceinline__ float to_acc(float x) { return x; }
__device__ __forceinline__ double to_acc(double x) { return x; }
__device__ __forceinline__ float to_acc(nbf_half x) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x.bits));
    return f;
}

template <typename T> __device__ __forceinline__ T from_acc(float x) { return (T)x; }
template <> __device__ __forceinline__ double from_acc<double>(float x) { return (double)x; }
template <typename T> __device__ __forceinline__ T from_acc(double x) { return (T)x; }
template <> __device__ __forceinline__ nbf_half from_acc<nbf_half>(float x) {
    nbf_half h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(x));
    return h;
}

__device__ __forceinline__ float nbf_exp(float x) { return expf(x); }
__device__ __forceinline__ double nbf_exp(double x) { return exp(x); }
__device__ __forceinline__ float nbf_log(float x) { return logf(x); }
__device__ __forceinline__ double nbf_log(double x) { return log(x); }
__device__ __forceinline__ float nbf_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double nbf_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float nbf_rsqrt(float x) { return rsqrtf(x); }
__device__ __forceinline__ double nbf_rsqrt(double x) { return rsqrt(x); }
__device__ __forceinline__ float nbf_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double nbf_max(double a, double b) { return fmax(a, b); }

// +infinity without INFINITY (a host macro NVRTC does not have).
template <typename A> __device__ __forceinline__ A nbf_inf();
template <> __device__ __forceinline__ float nbf_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double nbf_inf<double>() {
    return __longlong_as_double(0x7ff0000000000000LL);
}

struct SumOp {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};
struct MaxOp {
    template <typename A> __device__ __forceinline__ A operator()(A a, A b) const { return nbf_max(a, b); }
};

template <typename A, typename Op> __device__ __forceinline__ A warp_reduce(A v, Op op) {
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Reduce over the threadIdx.x of one row. Rows are laid out either one per warp (blockDim.x == 32,
// blockDim.y rows per block) or one per block (blockDim.x a multiple of 32, blockDim.y == 1).
// Every thread of the row gets the result. `scratch` holds 32 values in shared memory.
template <typename A, typename Op>
__device__ __forceinline__ A row_reduce(A v, Op op, A identity, A* scratch) {
    v = warp_reduce(v, op);
    if (blockDim.x <= 32) return v;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // earlier readers of scratch are done
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = (lane < (int)(blockDim.x >> 5)) ? scratch[lane] : identity;
    return warp_reduce(v, op);
}

// The row this thread works on, in either layout above.
__device__ __forceinline__ long long row_index() {
    return (long long)blockIdx.x * blockDim.y + threadIdx.y;
}
