// The non-finite-gradient check that SkipStep and Throw need before anything is written: one flag per
// parameter, set when any element of its gradient is NaN or +-inf. The host reads the flags once per
// step (it must: skipping or throwing is host control flow) and only then launches the update.
//
// ==== CPU reference ==== Kernels/NonFiniteScan.cs: AllFinite (x - x is 0 for finite x, NaN otherwise).
// ==== Launcher ======== Accelerators/AcceleratorKernelBackend.cs: FlagNonFinite.
// ==== Validation ====== Optimizers.Tests/Accelerators/OpenClOptimizerTests.cs.
// ==== Versions ======== 1. one element per work-item; every offending work-item stores the same 1, so
//                          the unordered stores need no atomic.

KERNEL void gradient_flag_nonfinite(GLOBAL const param_t* grad, int offset, int length, GLOBAL u32* flags, int slot)
{
    int i = GLOBAL_ID();
    if (i >= length) return;
    param_t x = grad[offset + i];
    if (!(x - x == (param_t)0.0f)) flags[slot] = 1u;
}
