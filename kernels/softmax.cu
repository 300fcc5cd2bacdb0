// Softmax and log-softmax over the last dimension of a (rows, cols) array.
// One row per warp (short rows: blockDim = (32, rows per block)) or per block (long rows).
#include "common.cuh"

template <typename T, bool LOG>
__global__ void softmax_forward(const T* __restrict__ x, T* __restrict__ y, long long rows, int cols) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    const long long row = row_index();
    if (row >= rows) return;
    const T* xr = x + row * cols;
    T* yr = y + row * cols;

    A m = -nbf_inf<A>();
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = nbf_max(m, to_acc(xr[c]));
    m = row_reduce(m, MaxOp(), -nbf_inf<A>(), scratch);
    A s = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += nbf_exp(to_acc(xr[c]) - m);
    s = row_reduce(s, SumOp(), (A)0, scratch);

    if (LOG) {
        const A shift = m + nbf_log(s);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = from_acc<T>(to_acc(xr[c]) - shift);
    } else {
        const A inv = (A)1 / s;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = from_acc<T>(nbf_exp(to_acc(xr[c]) - m) * inv);
    }
}

// softmax:     dx = y * (dy - sum(dy * y))
// log_softmax: dx = dy - exp(y) * sum(dy)
template <typename T, bool LOG>
__global__ void softmax_backward(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                 long long rows, int cols) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    const long long row = row_index();
    if (row >= rows) return;
    const T* yr = y + row * cols;
    const T* gr = dy + row * cols;
    T* dr = dx + row * cols;

    A s = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        s += LOG ? to_acc(gr[c]) : to_acc(gr[c]) * to_acc(yr[c]);
    }
    s = row_reduce(s, SumOp(), (A)0, scratch);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const A yc = to_acc(yr[c]), gc = to_acc(gr[c]);
        dr[c] = from_acc<T>(LOG ? gc - nbf_exp(yc) * s : yc * (gc - s));
    }
}
