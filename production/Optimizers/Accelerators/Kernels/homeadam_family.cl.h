// AdamSRF, HomeAdam and HomeAdamEW on the device: Kernels/HomeAdamFamilyKernel.cs operation by
// operation (paper-notes/operation-sequences.md; the E-numbers below are its lines). A change of order
// there is a change of the matching line here; the OpenCL tests hold the two to the same bits.
//
// ==== CPU reference ==== Kernels/HomeAdamFamilyKernel.cs: Step, UpdateMoments, Apply.
// ==== Launcher ======== Accelerators/AcceleratorKernelBackend.cs: HomeAdamStep, HomeAdamUpdateMoments,
//                        BeginHomeAdamGroup, DecideHomeAdamGroup, HomeAdamApply.
// ==== Validation ====== Optimizers.Tests/Accelerators/OpenClKernelTests.cs (every buffer and the group
//                        scalars against the CPU reference); timings in paper-notes/backends.md.
// ==== Versions of homeadam_moments' minimum (1e6 float32 elements on PoCL, 2 shared cores) ====
//   1. one element per work-item, tree reduction per work-group: 16-50 ms (eight barriers per group)
//   2. grid-stride loop over 65536 work-items: 50-110 ms and super-linear in n (256 KB strides
//      collide in the CPU caches)
//   3. a contiguous chunk per work-group, work-items striding by the group size, no barrier: 4 ms.
//      Promoted.

// How an apply pass picks the adaptive step m/(v_hat+eps) over the SGDM step m. 0..2 are BranchRule's values.
#define RULE_ADAPTIVE 0
#define RULE_SGDM 1
#define RULE_ELEMENT_WISE 2
#define RULE_GROUP_DECISION 3 // read the decision homeadam_decide left in the group scalars

// The group scalars of HomeAdam, kept on the device across a step: one 32-byte buffer per parameter
// group. Tensors whose state computes in float32 (float32, float16, bfloat16) fold into the float slots,
// float64 state into the double slots; homeadam_decide combines them in the widest type that took
// part, as torch.minimum promotes 0-d tensors of two dtypes.
#define GROUP_FLOAT_MIN_VHAT 0    // float index: running NaN-propagating minimum of v_hat
#define GROUP_FLOAT_ADAPTIVE 1    // float index: 1 when the group takes the adaptive branch, 0 for SGDM
#define GROUP_FLOAT_LAST_MIN_V 2  // float index: the last tensor's minimum stored v, before bias correction
#define GROUP_DOUBLE_MIN_VHAT 2   // double index (bytes 16..23)
#define GROUP_DOUBLE_LAST_MIN_V 3 // double index (bytes 24..31)

#if STATE_KIND == 1
#define GROUP_MIN_VHAT GROUP_DOUBLE_MIN_VHAT
#define GROUP_LAST_MIN_V GROUP_DOUBLE_LAST_MIN_V
#else
#define GROUP_MIN_VHAT GROUP_FLOAT_MIN_VHAT
#define GROUP_LAST_MIN_V GROUP_FLOAT_LAST_MIN_V
#endif

#define GROUP_DECIDED_ADAPTIVE(group) (((GLOBAL const float*)(group))[GROUP_FLOAT_ADAPTIVE] != 0.0f)

// Halves the live part of a work-group's scratch until element 0 holds the minimum. Written out stage by
// stage so that no loop surrounds a barrier; it runs once per tensor, in homeadam_fold_min.
#define MIN_STAGE(scratch, lid, stride)                                                   \
    if ((lid) < (stride)) scratch[lid] = nan_propagating_min(scratch[lid], scratch[(lid) + (stride)]); \
    LOCAL_BARRIER();
#define WORK_GROUP_MIN_TREE(scratch, lid)                                                 \
    MIN_STAGE(scratch, lid, 128) MIN_STAGE(scratch, lid, 64) MIN_STAGE(scratch, lid, 32)   \
    MIN_STAGE(scratch, lid, 16) MIN_STAGE(scratch, lid, 8) MIN_STAGE(scratch, lid, 4)      \
    MIN_STAGE(scratch, lid, 2) MIN_STAGE(scratch, lid, 1)

// m <- lerp(m, g, w) as torch 1.13 rounds it: one fused multiply-add, branch chosen by w.
INLINE compute_t torch_lerp(compute_t m, compute_t g, compute_t w, compute_t one_minus_w, int low_weight)
{
    return low_weight ? FMA(w, g - m, m) : FMA(-(g - m), one_minus_w, g);
}

// The moment update of one element; returns the second moment as stored.
INLINE compute_t update_moments_at(GLOBAL const param_t* grad, int pi, GLOBAL state_t* m, GLOBAL state_t* v, int si,
    compute_t w, compute_t one_minus_w, int low_weight, compute_t beta2, compute_t one_minus_beta2)
{
    // E1 grad.to(state_dtype): stored-type rounding, then widened to the compute type.
    compute_t gi = ROUND_STATE((compute_t)grad[pi]);
    compute_t mi = torch_lerp(LOAD_STATE(m, si), gi, w, one_minus_w, low_weight); // E2
    compute_t vi = FMA(one_minus_beta2 * gi, gi, LOAD_STATE(v, si) * beta2);    // E3
    STORE_STATE(m, si, mi);
    STORE_STATE(v, si, vi);
    return LOAD_STATE(v, si);
}

// The parameter update of one element from already-updated moments; returns 1 when it was adaptive.
INLINE int apply_at(GLOBAL param_t* param, int pi, GLOBAL const state_t* m, GLOBAL const state_t* v, int si,
    compute_t bias_correction2, compute_t step_size, compute_t eps, compute_t tau, param_t decay, int has_decay,
    int rule, int group_adaptive)
{
    compute_t mi = LOAD_STATE(m, si);
    compute_t v_hat = LOAD_STATE(v, si) / bias_correction2; // E4
    // E5
    int adaptive = rule == RULE_ADAPTIVE ? 1
        : rule == RULE_SGDM ? 0
        : rule == RULE_ELEMENT_WISE ? (v_hat >= tau)
        : group_adaptive;
    compute_t u = adaptive ? mi / (v_hat + eps) : mi; // E6
    param_t delta = (param_t)(u * step_size);         // E7
    param_t p = param[pi];
    if (has_decay) p *= decay;                         // E8
    param[pi] = p - delta;                             // E9
    return adaptive;
}

// AdamSRF and HomeAdamEW (and HomeAdam with a rule already known): moments and update in one pass.
KERNEL void homeadam_step(GLOBAL param_t* param, GLOBAL const param_t* grad, int param_offset,
    GLOBAL state_t* m, GLOBAL state_t* v, int state_offset, int length,
    compute_t lerp_weight, compute_t beta2, compute_t one_minus_beta2, compute_t bias_correction2,
    compute_t step_size, compute_t eps, compute_t tau, param_t decay, int has_decay, int rule,
    GLOBAL const u32* group, int count_adaptive, GLOBAL u32* adaptive_count)
{
    LOCAL_ARRAY(u32, count_scratch, WORK_GROUP_SIZE);
    int i = GLOBAL_ID();
    compute_t one_minus_w = (compute_t)1.0f - lerp_weight;
    int low_weight = lerp_weight < (compute_t)0.5f;
    int adaptive = 0;
    if (i < length)
    {
        update_moments_at(grad, param_offset + i, m, v, state_offset + i, lerp_weight, one_minus_w, low_weight, beta2, one_minus_beta2);
        int group_adaptive = rule == RULE_GROUP_DECISION ? GROUP_DECIDED_ADAPTIVE(group) : 0;
        adaptive = apply_at(param, param_offset + i, m, v, state_offset + i, bias_correction2, step_size, eps, tau,
            decay, has_decay, rule, group_adaptive);
    }
    WORK_GROUP_COUNT_INTO(count_adaptive, adaptive_count, adaptive, count_scratch);
}

// HomeAdam's first pass: moments, and each work-item's minimum stored v into partial_min[work-item].
// Work-group k owns the contiguous chunk [k*chunk, (k+1)*chunk) and its work-items stride through it by
// the work-group size: coalesced on GPUs, cache-friendly where PoCL runs one work-item after another,
// and without barriers (PoCL runs barrier-heavy kernels an order of magnitude slower). The minimum is
// exact in any order (see nan_propagating_min), so the split does not change a bit.
KERNEL void homeadam_moments(GLOBAL const param_t* grad, int param_offset,
    GLOBAL state_t* m, GLOBAL state_t* v, int state_offset, int length, int chunk,
    compute_t lerp_weight, compute_t beta2, compute_t one_minus_beta2, GLOBAL compute_t* partial_min)
{
    int begin = GROUP_ID() * chunk;
    int end = length - begin < chunk ? length : begin + chunk;
    compute_t one_minus_w = (compute_t)1.0f - lerp_weight;
    int low_weight = lerp_weight < (compute_t)0.5f;
    compute_t acc = COMPUTE_INF;
    for (int i = begin + LOCAL_ID(); i < end; i += WORK_GROUP_SIZE)
        acc = nan_propagating_min(acc,
            update_moments_at(grad, param_offset + i, m, v, state_offset + i, lerp_weight, one_minus_w, low_weight, beta2, one_minus_beta2));
    partial_min[GLOBAL_ID()] = acc;
}

// One work-group: the tensor's minimum from the partials, then min(v)/bc2 folded into the group minimum
// of this state's compute type (upstream: amin(v) / (1 - P2), combined across tensors with torch.minimum).
KERNEL void homeadam_fold_min(GLOBAL const compute_t* partial_min, int partial_count, compute_t bias_correction2,
    GLOBAL u32* group)
{
    LOCAL_ARRAY(compute_t, min_scratch, WORK_GROUP_SIZE);
    int lid = LOCAL_ID();
    compute_t acc = COMPUTE_INF;
    for (int k = lid; k < partial_count; k += WORK_GROUP_SIZE)
        acc = nan_propagating_min(acc, partial_min[k]);
    min_scratch[lid] = acc;
    LOCAL_BARRIER();
    WORK_GROUP_MIN_TREE(min_scratch, lid);
    if (lid == 0)
    {
        GLOBAL compute_t* slots = (GLOBAL compute_t*)group;
        compute_t tensor_min_v = min_scratch[0];
        slots[GROUP_LAST_MIN_V] = tensor_min_v;
        slots[GROUP_MIN_VHAT] = nan_propagating_min(slots[GROUP_MIN_VHAT], tensor_min_v / bias_correction2);
    }
}

// Starts a group's step: an empty minimum is +inf (every tensor adaptive if none had a gradient).
// Written as bit patterns so that a build without float64 support can reset the double slots too.
KERNEL void homeadam_group_begin(GLOBAL u32* group)
{
    if (GLOBAL_ID() == 0)
    {
        group[GROUP_FLOAT_MIN_VHAT] = 0x7F800000u;
        group[GROUP_FLOAT_ADAPTIVE] = 0u;
        group[GROUP_FLOAT_LAST_MIN_V] = 0x7F800000u;
        group[3] = 0u;
        ((GLOBAL u64*)group)[GROUP_DOUBLE_MIN_VHAT] = 0x7FF0000000000000UL;
        ((GLOBAL u64*)group)[GROUP_DOUBLE_LAST_MIN_V] = 0x7FF0000000000000UL;
    }
}

// The group decision, on the device, built for the widest state dtype of the group's tensors (tau is
// rounded to it). Upstream's non-capturable path asks `min < tau` (a NaN minimum does not veto:
// adaptive); its capturable path asks `min >= tau` (a NaN minimum gives SGDM).
KERNEL void homeadam_decide(GLOBAL u32* group, compute_t tau, int capturable)
{
    if (GLOBAL_ID() == 0)
    {
        GLOBAL float* narrow = (GLOBAL float*)group;
        compute_t min_v_hat = (compute_t)narrow[GROUP_FLOAT_MIN_VHAT];
#if STATE_KIND == 1
        min_v_hat = nan_propagating_min(min_v_hat, ((GLOBAL double*)group)[GROUP_DOUBLE_MIN_VHAT]);
#endif
        int adaptive = capturable ? (min_v_hat >= tau) : !(min_v_hat < tau);
        narrow[GROUP_FLOAT_ADAPTIVE] = adaptive ? 1.0f : 0.0f;
    }
}

// HomeAdam's second pass: the update from already-updated moments.
KERNEL void homeadam_apply(GLOBAL param_t* param, int param_offset,
    GLOBAL const state_t* m, GLOBAL const state_t* v, int state_offset, int length,
    compute_t bias_correction2, compute_t step_size, compute_t eps, compute_t tau, param_t decay, int has_decay, int rule,
    GLOBAL const u32* group, int count_adaptive, GLOBAL u32* adaptive_count)
{
    LOCAL_ARRAY(u32, count_scratch, WORK_GROUP_SIZE);
    int i = GLOBAL_ID();
    int adaptive = 0;
    if (i < length)
    {
        int group_adaptive = rule == RULE_GROUP_DECISION ? GROUP_DECIDED_ADAPTIVE(group) : 0;
        adaptive = apply_at(param, param_offset + i, m, v, state_offset + i, bias_correction2, step_size, eps, tau,
            decay, has_decay, rule, group_adaptive);
    }
    WORK_GROUP_COUNT_INTO(count_adaptive, adaptive_count, adaptive, count_scratch);
}
