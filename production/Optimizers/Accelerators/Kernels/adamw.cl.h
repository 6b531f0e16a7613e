// torch 1.13's AdamW (also STAC's cap) on the device: Kernels/AdamWKernel.cs operation by operation
// (A-numbers: paper-notes/operation-sequences.md).
// The state has the parameter's dtype, so the host builds it with STATE_KIND equal to PARAM_KIND.
//
// ==== CPU reference ==== Kernels/AdamWKernel.cs: Step.
// ==== Launcher ======== Accelerators/AcceleratorKernelBackend.cs: AdamWStep.
// ==== Validation ====== Optimizers.Tests/Accelerators/OpenClKernelTests.cs.
// ==== Versions ======== 1. one element per work-item, no barrier. The only version so far.

// torch.maximum after the NaN check: +0 is above -0.
INLINE param_t max_of_numbers(param_t a, param_t b)
{
    if (a > b) return a;
    if (b > a) return b;
    return PARAM_SIGN_BIT(a) ? b : a;
}

KERNEL void adamw_step(GLOBAL param_t* param, GLOBAL const param_t* grad, int param_offset,
    GLOBAL param_t* m, GLOBAL param_t* v, GLOBAL param_t* max_exp_avg_sq, int state_offset, int length,
    param_t beta1, param_t one_minus_beta1, param_t beta2, param_t one_minus_beta2,
    param_t neg_step_size, param_t bias_correction2_sqrt, param_t eps, param_t decay, int amsgrad, int maximize)
{
    int i = GLOBAL_ID();
    if (i >= length) return;
    int pi = param_offset + i;
    int si = state_offset + i;
    param_t gi = maximize ? -grad[pi] : grad[pi];                // A1
    param_t p = param[pi] * decay;                               // A2
    param_t mi = FMA(one_minus_beta1, gi, m[si] * beta1);        // A3
    param_t vi = FMA(one_minus_beta2 * gi, gi, v[si] * beta2);   // A4
    m[si] = mi;
    v[si] = vi;
    param_t source = vi;
    if (amsgrad)
    {
        // A5: torch.maximum propagates NaN.
        param_t previous = max_exp_avg_sq[si];
        source = (previous != previous || vi != vi) ? PARAM_NAN : max_of_numbers(previous, vi);
        max_exp_avg_sq[si] = source;
    }
    param_t denom = SQRT(source) / bias_correction2_sqrt + eps; // A6
    param[pi] = p + neg_step_size * mi / denom;                 // A7
}
