// im2col / col2im for convolution as a GEMM, on an already padded (N, C, H, W) input.
// Columns: rows (c, i, j) = C * KH * KW, columns (n, oh, ow) = N * OH * OW: the layout of
// nbframe.backend.cpu.im2col (its (groups, C/groups * KH * KW, ...) view is the same memory).
#include "common.cuh"

template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ col, int N, int C, int H, int W, int KH, int KW,
                       int SH, int SW, int DH, int DW, int OH, int OW) {
    const long long cols = (long long)N * OH * OW;
    const long long total = (long long)C * KH * KW * cols;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        // consecutive threads walk along (n, oh, ow): coalesced writes, mostly coalesced reads
        const long long q = k % cols, r = k / cols;
        const int ow = (int)(q % OW), oh = (int)((q / OW) % OH), n = (int)(q / ((long long)OW * OH));
        const int j = (int)(r % KW), i = (int)((r / KW) % KH), c = (int)(r / ((long long)KW * KH));
        col[k] = x[(((long long)n * C + c) * H + oh * SH + i * DH) * W + ow * SW + j * DW];
    }
}

// The adjoint: each input element gathers the column entries that read it (no atomics).
template <typename T>
__global__ void col2im(const T* __restrict__ col, T* __restrict__ x, int N, int C, int H, int W, int KH, int KW,
                       int SH, int SW, int DH, int DW, int OH, int OW) {
    typedef typename Acc<T>::type A;
    const long long cols = (long long)N * OH * OW;
    const long long total = (long long)N * C * H * W;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const int w = (int)(k % W), h = (int)((k / W) % H);
        const int c = (int)((k / ((long long)W * H)) % C), n = (int)(k / ((long long)W * H * C));
        A s = 0;
        for (int i = 0; i < KH; ++i) {
            const int hh = h - i * DH;
            if (hh < 0 || hh % SH != 0 || hh / SH >= OH) continue;
            for (int j = 0; j < KW; ++j) {
                const int ww = w - j * DW;
                if (ww < 0 || ww % SW != 0 || ww / SW >= OW) continue;
                const long long r = ((long long)c * KH + i) * KW + j;
                s += to_acc(col[r * cols + ((long long)n * OH + hh / SH) * OW + ww / SW]);
            }
        }
        x[k] = from_acc<T>(s);
    }
}
