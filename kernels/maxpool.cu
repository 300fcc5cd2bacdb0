// 2-D max pooling over (N, C, H, W) with the flat index (h * W + w) of each maximum, as PyTorch
// saves it; padding counts as -inf. PyTorch's rule, `val > max || isnan(val)`: the first of tied
// maxima wins, and a NaN wins over everything, the last NaN of the window over earlier ones.
#include "common.cuh"

template <typename T>
__global__ void maxpool2d_forward(const T* __restrict__ x, T* __restrict__ y, long long* __restrict__ indices,
                                  int N, int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW,
                                  int DH, int DW, int OH, int OW) {
    typedef typename Acc<T>::type A;
    const long long total = (long long)N * C * OH * OW;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const int ow = (int)(k % OW), oh = (int)((k / OW) % OH);
        const long long plane = k / ((long long)OW * OH);
        const T* xp = x + plane * H * W;
        A best = -nbf_inf<A>();
        long long best_index = -1;
        for (int i = 0; i < KH; ++i) {
            const int h = oh * SH - PH + i * DH;
            if (h < 0 || h >= H) continue;
            for (int j = 0; j < KW; ++j) {
                const int w = ow * SW - PW + j * DW;
                if (w < 0 || w >= W) continue;
                const A v = to_acc(xp[h * W + w]);
                if (best_index < 0 || v > best || v != v) {
                    best = v;
                    best_index = (long long)h * W + w;
                }
            }
        }
        y[k] = from_acc<T>(best);
        indices[k] = best_index;
    }
}

// grad_x[plane, indices[k]] += dy[k]; windows may overlap, so atomics into an accumulator array
// of type A (float for half and float, double for double), which the caller casts back.
template <typename T, typename A>
__global__ void maxpool2d_backward(const T* __restrict__ dy, const long long* __restrict__ indices,
                                   A* __restrict__ grad_x, long long planes, int HW, int OHW) {
    const long long total = planes * OHW;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const long long index = indices[k];
        if (index >= 0) atomicAdd(grad_x + (k / OHW) * HW + index, (A)to_acc(dy[k]));
    }
}
