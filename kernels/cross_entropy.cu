// Cross-entropy from logits, fused: log-softmax, the target pick, label smoothing, class weights and
// ignore_index in one pass over each row of (rows, classes) logits.
//
// Per row i with target t, lse = logsumexp(x_i), W = sum_c w_c, eps = label smoothing, C = classes:
//   loss_i = (1 - eps) * w_t * (lse - x_t) + eps / C * (W * lse - sum_c w_c x_c)
//   dloss_i/dx_c = (1 - eps) * w_t * (p_c - [c == t]) + eps / C * (W * p_c - w_c)
// An ignored row has loss 0 and weight 0. The mean's denominator (sum of w_t) is left to the caller.
#include "common.cuh"

template <typename T>
__global__ void cross_entropy_forward(const T* __restrict__ logits, const long long* __restrict__ target,
                                      const T* __restrict__ weight, const typename Acc<T>::type* __restrict__ wsum,
                                      typename Acc<T>::type* __restrict__ loss,
                                      typename Acc<T>::type* __restrict__ row_weight,
                                      typename Acc<T>::type* __restrict__ lse_out, int* __restrict__ bad_target,
                                      long long rows, int classes, long long ignore_index,
                                      typename Acc<T>::type smoothing) {
    typedef typename Acc<T>::type A;
    __shared__ A scratch[32];
    const long long row = row_index();
    if (row >= rows) return;
    const T* xr = logits + row * classes;
    const long long t = target[row];
    const bool ignored = (t == ignore_index);
    if (!ignored && (t < 0 || t >= classes) && threadIdx.x == 0) atomicExch(bad_target, 1);

    A m = -nbf_inf<A>();
    for (int c = threadIdx.x; c < classes; c += blockDim.x) m = nbf_max(m, to_acc(xr[c]));
    m = row_reduce(m, MaxOp(), -nbf_inf<A>(), scratch);
    A s = 0, wx = 0;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) {
        const A xc = to_acc(xr[c]);
        s += nbf_exp(xc - m);
        if (smoothing > (A)0) wx += to_acc(weight[c]) * xc;
    }
    s = row_reduce(s, SumOp(), (A)0, scratch);
    if (smoothing > (A)0) wx = row_reduce(wx, SumOp(), (A)0, scratch);
    if (threadIdx.x != 0) return;

    const A lse = m + nbf_log(s);
    lse_out[row] = lse;
    if (ignored || t < 0 || t >= classes) {
        loss[row] = 0;
        row_weight[row] = 0;
        return;
    }
    const A wt = to_acc(weight[t]);
    const A eps = (A)smoothing;
    A l = ((A)1 - eps) * wt * (lse - to_acc(xr[t]));
    if (smoothing > (A)0) l += eps / (A)classes * (wsum[0] * lse - wx);
    loss[row] = l;
    row_weight[row] = wt;
}

// grad_loss holds d(total)/d(loss_i) per row (the caller folds in the reduction).
template <typename T>
__global__ void cross_entropy_backward(const T* __restrict__ logits, const long long* __restrict__ target,
                                       const T* __restrict__ weight, const typename Acc<T>::type* __restrict__ wsum,
                                       const typename Acc<T>::type* __restrict__ lse,
                                       const typename Acc<T>::type* __restrict__ grad_loss, T* __restrict__ grad_logits,
                                       long long rows, int classes, long long ignore_index,
                                      typename Acc<T>::type smoothing) {
    typedef typename Acc<T>::type A;
    const long long row = row_index();
    if (row >= rows) return;
    const T* xr = logits + row * classes;
    T* gr = grad_logits + row * classes;
    const long long t = target[row];
    if (t == ignore_index || t < 0 || t >= classes) {
        for (int c = threadIdx.x; c < classes; c += blockDim.x) gr[c] = from_acc<T>((A)0);
        return;
    }
    const A g = grad_loss[row], l = lse[row], eps = (A)smoothing;
    const A hard = ((A)1 - eps) * to_acc(weight[t]);
    const A soft = eps / (A)classes;
    const A wtotal = smoothing > (A)0 ? wsum[0] : (A)0;
    for (int c = threadIdx.x; c < classes; c += blockDim.x) {
        const A p = nbf_exp(to_acc(xr[c]) - l);
        A d = hard * (p - (c == t ? (A)1 : (A)0));
        if (smoothing > (A)0) d += soft * (wtotal * p - to_acc(weight[c]));
        gr[c] = from_acc<T>(g * d);
    }
}
