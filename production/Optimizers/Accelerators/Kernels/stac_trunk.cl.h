// STAC's sign-momentum trunk on the device: Kernels/StacTrunkKernel.cs operation by operation
// (T-numbers: paper-notes/operation-sequences.md).
// sign(0) = sign(NaN) = 0, as in torch.
//
// ==== CPU reference ==== Kernels/StacTrunkKernel.cs: Step.
// ==== Launcher ======== Accelerators/AcceleratorKernelBackend.cs: StacTrunkStep.
// ==== Validation ====== Optimizers.Tests/Accelerators/OpenClKernelTests.cs.
// ==== Versions ======== 1. one element per work-item, no barrier. The only version so far.

INLINE compute_t sign_of_compute(compute_t x)
{
    return x > (compute_t)0.0f ? (compute_t)1.0f : x < (compute_t)0.0f ? (compute_t)-1.0f : (compute_t)0.0f;
}

INLINE param_t sign_of_param(param_t x)
{
    return x > (param_t)0.0f ? (param_t)1.0f : x < (param_t)0.0f ? (param_t)-1.0f : (param_t)0.0f;
}

// `buffer` is not touched when has_momentum is 0 (any buffer may be passed).
KERNEL void stac_trunk_step(GLOBAL param_t* param, GLOBAL const param_t* grad, int param_offset,
    GLOBAL state_t* buffer, int state_offset, int length,
    compute_t momentum, compute_t one_minus_momentum, param_t neg_lr, param_t decay,
    int has_decay, int has_momentum, int maximize)
{
    int i = GLOBAL_ID();
    if (i >= length) return;
    int pi = param_offset + i;
    int si = state_offset + i;
    param_t p = param[pi];
    if (has_decay) p *= decay;                                   // T2
    param_t ui = maximize ? -grad[pi] : grad[pi];                // T1 (exact, so its place is free)
    param_t direction;
    if (has_momentum)
    {
        // T3
        compute_t bi = FMA(one_minus_momentum, ROUND_STATE((compute_t)ui), LOAD_STATE(buffer, si) * momentum);
        STORE_STATE(buffer, si, bi);
        direction = (param_t)sign_of_compute(LOAD_STATE(buffer, si));
    }
    else direction = sign_of_param(ui);
    param[pi] = FMA(neg_lr, direction, p); // T4
}
