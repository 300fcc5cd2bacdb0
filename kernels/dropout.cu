// Dropout with a counter-based RNG (Philox4x32-10, Salmon et al. 2011): the random word for element
// i is a pure function of (seed, offset, i), so a run is reproducible from nf.cuda.manual_seed, any
// launch shape gives the same mask, and nbframe.backend.cpu.dropout_mask reproduces it bit for bit.
//
// Counter = (i / 4 as 64 bits, offset as 64 bits), key = seed; element i takes word i % 4.
// keep <=> (word >> 8) < threshold, threshold = round((1 - p) * 2^24); kept values are scaled.
#include "common.cuh"

struct Philox4 {
    unsigned int v[4];
};

__device__ __forceinline__ Philox4 philox4x32_10(unsigned int c0, unsigned int c1, unsigned int c2,
                                                 unsigned int c3, unsigned int k0, unsigned int k1) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const unsigned int lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
        const unsigned int lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
        const unsigned int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    Philox4 out = {{c0, c1, c2, c3}};
    return out;
}

// Each thread makes 4 elements from one Philox call.
template <typename T>
__global__ void dropout_forward(const T* __restrict__ x, T* __restrict__ y, unsigned char* __restrict__ mask,
                                long long n, unsigned int threshold, typename Acc<T>::type scale, unsigned long long seed,
                                unsigned long long offset) {
    typedef typename Acc<T>::type A;
    const long long groups = (n + 3) / 4;
    for (long long g = (long long)blockIdx.x * blockDim.x + threadIdx.x; g < groups;
         g += (long long)gridDim.x * blockDim.x) {
        const Philox4 r = philox4x32_10((unsigned int)g, (unsigned int)((unsigned long long)g >> 32),
                                        (unsigned int)offset, (unsigned int)(offset >> 32), (unsigned int)seed,
                                        (unsigned int)(seed >> 32));
        for (int w = 0; w < 4; ++w) {
            const long long i = g * 4 + w;
            if (i >= n) break;
            const bool keep = (r.v[w] >> 8) < threshold;
            mask[i] = keep ? 1 : 0;
            y[i] = from_acc<T>(keep ? to_acc(x[i]) * (A)scale : (A)0);
        }
    }
}

// dx = dy * mask * scale
template <typename T>
__global__ void dropout_backward(const T* __restrict__ dy, const unsigned char* __restrict__ mask,
                                 T* __restrict__ dx, long long n, typename Acc<T>::type scale) {
    typedef typename Acc<T>::type A;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        dx[i] = from_acc<T>(mask[i] ? to_acc(dy[i]) * (A)scale : (A)0);
    }
}
