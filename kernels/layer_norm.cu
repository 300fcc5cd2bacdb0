// Layer norm over the last dimension of a (rows, cols) array, with optional affine weight and bias.
//   y = (x - mean) * rstd * w + b,   rstd = 1 / sqrt(var + eps)   (biased variance, as PyTorch)
#include "common.cuh"

template <typename T>
__global__ void layer_norm_forward(const T* __restrict__ x, const T* __restrict__ weight, const T* __restrict__ bias,
                                   T* __restrict__ y, typename Acc<T>::type* __restrict__ mean_out,
                                   typename Acc<T>::type* __restrict__ rstd_out, long long rows, int cols,
                                   typename Acc<T>::type eps, int affine) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    const long long row = row_index();
    if (row >= rows) return;
    const T* xr = x + row * cols;
    T* yr = y + row * cols;

    A s = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += to_acc(xr[c]);
    const A mean = row_reduce(s, SumOp(), (A)0, scratch) / (A)cols;
    A q = 0;  // two passes: no cancellation in var = E[x^2] - E[x]^2
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        const A d = to_acc(xr[c]) - mean;
        q += d * d;
    }
    const A rstd = nbf_rsqrt(row_reduce(q, SumOp(), (A)0, scratch) / (A)cols + (A)eps);
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        A v = (to_acc(xr[c]) - mean) * rstd;
        if (affine) v = v * to_acc(weight[c]) + to_acc(bias[c]);
        yr[c] = from_acc<T>(v);
    }
    if (threadIdx.x == 0) {
        mean_out[row] = mean;
        rstd_out[row] = rstd;
    }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * w
template <typename T>
__global__ void layer_norm_backward_input(const T* __restrict__ x, const T* __restrict__ dy,
                                          const T* __restrict__ weight,
                                          const typename Acc<T>::type* __restrict__ mean,
                                          const typename Acc<T>::type* __restrict__ rstd, T* __restrict__ dx,
                                          long long rows, int cols, int affine) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    const long long row = row_index();
    if (row >= rows) return;
    const T* xr = x + row * cols;
    const T* gr = dy + row * cols;
    T* dr = dx + row * cols;
    const A mu = mean[row], r = rstd[row];

    A sg = 0, sgx = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        A g = to_acc(gr[c]);
        if (affine) g *= to_acc(weight[c]);
        sg += g;
        sgx += g * (to_acc(xr[c]) - mu) * r;
    }
    sg = row_reduce(sg, SumOp(), (A)0, scratch) / (A)cols;
    sgx = row_reduce(sgx, SumOp(), (A)0, scratch) / (A)cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        A g = to_acc(gr[c]);
        if (affine) g *= to_acc(weight[c]);
        const A xhat = (to_acc(xr[c]) - mu) * r;
        dr[c] = from_acc<T>(r * (g - sg - xhat * sgx));
    }
}

// Partial sums of dw = sum_rows dy * xhat and db = sum_rows dy over chunks of rows:
// block (blockIdx.x, blockIdx.y) covers blockDim.x columns and the rows of chunk blockIdx.y;
// the caller adds the (chunks, cols) partials up.
template <typename T>
__global__ void layer_norm_backward_params(const T* __restrict__ x, const T* __restrict__ dy,
                                           const typename Acc<T>::type* __restrict__ mean,
                                           const typename Acc<T>::type* __restrict__ rstd,
                                           typename Acc<T>::type* __restrict__ dweight_partial,
                                           typename Acc<T>::type* __restrict__ dbias_partial,
                                           long long rows, int cols, long long rows_per_chunk) {
    typedef typename Acc<T>::type A;
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    const long long start = (long long)blockIdx.y * rows_per_chunk;
    long long stop = start + rows_per_chunk;
    if (stop > rows) stop = rows;
    A dw = 0, db = 0;
    for (long long r = start; r < stop; ++r) {
        const A g = to_acc(dy[r * cols + c]);
        dw += g * (to_acc(x[r * cols + c]) - mean[r]) * rstd[r];
        db += g;
    }
    dweight_partial[(long long)blockIdx.y * cols + c] = dw;
    dbias_partial[(long long)blockIdx.y * cols + c] = db;
}
