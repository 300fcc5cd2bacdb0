// Embedding backward: grad_weight[indices[i], :] += grad_output[i, :], rows equal to padding_idx
// skipped. Repeated indices collide, so atomics into an accumulator array (float for half and
// float, double for double) that the caller casts back.
#include "common.cuh"

template <typename T, typename A>
__global__ void embedding_backward(const long long* __restrict__ indices, const T* __restrict__ grad_output,
                                   A* __restrict__ grad_weight, long long n, int dim, long long padding_idx) {
    const long long total = n * dim;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        const long long row = indices[k / dim];
        if (row == padding_idx) continue;
        atomicAdd(grad_weight + row * dim + k % dim, (A)to_acc(grad_output[k]));
    }
}
