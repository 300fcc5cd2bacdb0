// The template behind the static-graph compiler's elementwise fusion: one kernel that reads up to 8
// same-shaped contiguous inputs, evaluates a generated expression in the accumulator type, and
// writes one output. The loader prepends the generated definitions, e.g.
//   #define NBF_FUSED_ARITY 2
//   #define NBF_FUSED_EXPR(a0, a1, a2, a3, a4, a5, a6, a7) (a0 * (A)1 / ((A)1 + exp(-a1)))
// Inside the expression, A is the accumulator type (float for half and float, double for double);
// unused inputs are passed any pointer and never read. Alone, this file fuses the identity.
#include "common.cuh"

#ifndef NBF_FUSED_EXPR
#define NBF_FUSED_ARITY 1
#define NBF_FUSED_EXPR(a0, a1, a2, a3, a4, a5, a6, a7) (a0)
#endif

template <typename T>
__global__ void fused_elementwise(const T* __restrict__ in0, const T* __restrict__ in1, const T* __restrict__ in2,
                                  const T* __restrict__ in3, const T* __restrict__ in4, const T* __restrict__ in5,
                                  const T* __restrict__ in6, const T* __restrict__ in7, T* __restrict__ out,
                                  long long n) {
    typedef typename Acc<T>::type A;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const A a0 = NBF_FUSED_ARITY > 0 ? to_acc(in0[i]) : (A)0;
        const A a1 = NBF_FUSED_ARITY > 1 ? to_acc(in1[i]) : (A)0;
        const A a2 = NBF_FUSED_ARITY > 2 ? to_acc(in2[i]) : (A)0;
        const A a3 = NBF_FUSED_ARITY > 3 ? to_acc(in3[i]) : (A)0;
        const A a4 = NBF_FUSED_ARITY > 4 ? to_acc(in4[i]) : (A)0;
        const A a5 = NBF_FUSED_ARITY > 5 ? to_acc(in5[i]) : (A)0;
        const A a6 = NBF_FUSED_ARITY > 6 ? to_acc(in6[i]) : (A)0;
        const A a7 = NBF_FUSED_ARITY > 7 ? to_acc(in7[i]) : (A)0;
        out[i] = from_acc<T>((A)(NBF_FUSED_EXPR(a0, a1, a2, a3, a4, a5, a6, a7)));
    }
}
