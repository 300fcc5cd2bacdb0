// Fused optimiser steps, one launch per parameter tensor: every update of one element (weight decay,
// momentum or moments, bias correction, the step) in registers, each array read and written once.
// The arithmetic follows torch.optim.SGD / Adam / AdamW (foreach=False) step by step.
// Hyper-parameters come in the accumulator type: a float64 parameter is updated with float64 lr, betas...
#include "common.cuh"

// first_step: the momentum buffer is not initialised yet (PyTorch sets it to the gradient).
template <typename T>
__global__ void sgd_step(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ momentum_buffer,
                         long long n, typename Acc<T>::type lr, typename Acc<T>::type momentum,
                         typename Acc<T>::type dampening, typename Acc<T>::type weight_decay, int nesterov,
                         int maximize, int first_step) {
    typedef typename Acc<T>::type A;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const A p = to_acc(param[i]);
        A d = to_acc(grad[i]);
        if (maximize) d = -d;
        if (weight_decay != (A)0) d += (A)weight_decay * p;
        if (momentum != (A)0) {
            A buf = first_step ? d : (A)momentum * to_acc(momentum_buffer[i]) + ((A)1 - (A)dampening) * d;
            momentum_buffer[i] = from_acc<T>(buf);
            d = nesterov ? d + (A)momentum * buf : buf;
        }
        param[i] = from_acc<T>(p - (A)lr * d);
    }
}

// Adam (decoupled = 0) and AdamW (decoupled = 1). bias_correction1/2 = 1 - beta^step, from the host.
// max_exp_avg_sq is only touched when amsgrad is set.
template <typename T>
__global__ void adam_step(T* __restrict__ param, const T* __restrict__ grad, T* __restrict__ exp_avg,
                          T* __restrict__ exp_avg_sq, T* __restrict__ max_exp_avg_sq, long long n,
                          typename Acc<T>::type lr, typename Acc<T>::type beta1, typename Acc<T>::type beta2,
                          typename Acc<T>::type eps, typename Acc<T>::type weight_decay, int decoupled,
                          int amsgrad, int maximize, typename Acc<T>::type bias_correction1,
                          typename Acc<T>::type bias_correction2) {
    typedef typename Acc<T>::type A;
    const A step_size = (A)lr / (A)bias_correction1;
    const A bc2_sqrt = nbf_sqrt((A)bias_correction2);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        A p = to_acc(param[i]);
        A g = to_acc(grad[i]);
        if (maximize) g = -g;
        if (weight_decay != (A)0) {
            if (decoupled) p *= (A)1 - (A)lr * (A)weight_decay;
            else g += (A)weight_decay * p;
        }
        const A m = to_acc(exp_avg[i]) + ((A)1 - (A)beta1) * (g - to_acc(exp_avg[i]));
        const A v = (A)beta2 * to_acc(exp_avg_sq[i]) + ((A)1 - (A)beta2) * g * g;
        exp_avg[i] = from_acc<T>(m);
        exp_avg_sq[i] = from_acc<T>(v);
        A v_hat = v;
        if (amsgrad) {
            v_hat = nbf_max(to_acc(max_exp_avg_sq[i]), v);
            max_exp_avg_sq[i] = from_acc<T>(v_hat);
        }
        const A denom = nbf_sqrt(v_hat) / bc2_sqrt + (A)eps;
        param[i] = from_acc<T>(p - step_size * m / denom);
    }
}
