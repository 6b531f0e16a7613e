// Shared by every kernel family in both dialects. Written in the intersection of OpenCL C 1.2 and
// CUDA C++: no overloading, no templates, no references, no C99-only or C++-only syntax.
//
// Build macros (set by the host):
//   PARAM_KIND  0 = float32 parameters and gradients, 1 = float64
//   STATE_KIND  0 = float32, 1 = float64, 2 = float16, 3 = bfloat16 (optimizer state storage)
// float16 and bfloat16 state compute in float32, float64 state in float64: the C# IElement rules.

#define WORK_GROUP_SIZE 256

#if PARAM_KIND == 1
typedef double param_t;
#define PARAM_NAN U64_AS_F64(0xFFF8000000000000UL)
#define PARAM_SIGN_BIT(x) ((int)(F64_AS_U64(x) >> 63))
#else
typedef float param_t;
#define PARAM_NAN U32_AS_F32(0xFFC00000u)
#define PARAM_SIGN_BIT(x) ((int)(F32_AS_U32(x) >> 31))
#endif

#if STATE_KIND == 1
typedef double compute_t;
#define COMPUTE_NAN U64_AS_F64(0xFFF8000000000000UL)
#define COMPUTE_INF U64_AS_F64(0x7FF0000000000000UL)
#define COMPUTE_SIGN_BIT(x) ((int)(F64_AS_U64(x) >> 63))
#else
typedef float compute_t;
// System.Single.NaN's bits (0/0 on x86): the C# kernel writes exactly this NaN.
#define COMPUTE_NAN U32_AS_F32(0xFFC00000u)
#define COMPUTE_INF U32_AS_F32(0x7F800000u)
#define COMPUTE_SIGN_BIT(x) ((int)(F32_AS_U32(x) >> 31))
#endif

// ---- bfloat16: the upper half of a binary32, rounded as Numerics/BFloat16.cs rounds ----------

INLINE u16 bf16_from_f32(float x)
{
    u32 bits = F32_AS_U32(x);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
        return (u16)((bits >> 16) | 0x0040u);
    u32 rounding_bias = 0x7FFFu + ((bits >> 16) & 1u);
    return (u16)((bits + rounding_bias) >> 16);
}

INLINE float bf16_to_f32(u16 h) { return U32_AS_F32(((u32)h) << 16); }

// ---- float16 by bit operations: System.Half's conversions (round to nearest even; a NaN keeps its
// sign and top payload bits and becomes quiet) ---------------------------------------------------

INLINE u16 f16_bits_from_f32(float x)
{
    u32 bits = F32_AS_U32(x);
    u32 sign = (bits >> 16) & 0x8000u;
    u32 magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u)
        return (u16)(sign | 0x7E00u | ((magnitude & 0x007FFFFFu) >> 13));
    if (magnitude >= 0x477FF000u) // >= 65520 rounds to infinity
        return (u16)(sign | 0x7C00u);
    if (magnitude >= 0x38800000u) // >= 2^-14: a normal half
    {
        u32 rebiased = magnitude - 0x38000000u;
        return (u16)(sign | ((rebiased + 0x0FFFu + ((rebiased >> 13) & 1u)) >> 13));
    }
    if (magnitude <= 0x33000000u) // <= 2^-25 rounds to zero (the tie goes to the even zero)
        return (u16)sign;
    u32 significand = (magnitude & 0x007FFFFFu) | 0x00800000u;
    u32 shift = 126u - (magnitude >> 23);
    u32 quotient = significand >> shift;
    u32 remainder = significand & ((1u << shift) - 1u);
    u32 halfway = 1u << (shift - 1u);
    if (remainder > halfway || (remainder == halfway && (quotient & 1u) != 0u))
        quotient += 1u;
    return (u16)(sign | quotient);
}

INLINE float f16_bits_to_f32(u16 h)
{
    u32 sign = ((u32)h & 0x8000u) << 16;
    u32 exponent = ((u32)h >> 10) & 0x1Fu;
    u32 significand = (u32)h & 0x3FFu;
    if (exponent == 0x1Fu)
        return U32_AS_F32(significand == 0u ? (sign | 0x7F800000u) : (sign | 0x7FC00000u | (significand << 13)));
    if (exponent == 0u)
    {
        // A subnormal half is significand * 2^-24, exact in binary32.
        float magnitude = (float)significand * 5.9604644775390625e-8f;
        return U32_AS_F32(sign | F32_AS_U32(magnitude));
    }
    return U32_AS_F32(sign | ((exponent + 112u) << 23) | (significand << 13));
}

#ifdef HALF_VIA_BITS
#define HALF_STORAGE_T u16
INLINE float half_load(GLOBAL const u16* p, int i) { return f16_bits_to_f32(p[i]); }
INLINE void half_store(GLOBAL u16* p, int i, float x) { p[i] = f16_bits_from_f32(x); }
INLINE float half_round(float x) { return f16_bits_to_f32(f16_bits_from_f32(x)); }
#endif

// ---- state storage: load widens to compute_t, store rounds to nearest even --------------------

#if STATE_KIND == 0
typedef float state_t;
#define LOAD_STATE(p, i) ((p)[i])
#define STORE_STATE(p, i, x) ((p)[i] = (x))
#define ROUND_STATE(x) (x)
#elif STATE_KIND == 1
typedef double state_t;
#define LOAD_STATE(p, i) ((p)[i])
#define STORE_STATE(p, i, x) ((p)[i] = (x))
#define ROUND_STATE(x) (x)
#elif STATE_KIND == 2
typedef HALF_STORAGE_T state_t;
#define LOAD_STATE(p, i) half_load((p), (i))
#define STORE_STATE(p, i, x) half_store((p), (i), (x))
#define ROUND_STATE(x) half_round(x)
#elif STATE_KIND == 3
typedef u16 state_t;
#define LOAD_STATE(p, i) bf16_to_f32((p)[i])
#define STORE_STATE(p, i, x) ((p)[i] = bf16_from_f32(x))
#define ROUND_STATE(x) bf16_to_f32(bf16_from_f32(x))
#endif

// ---- comparisons with .NET's semantics --------------------------------------------------------

// T.Min after the NaN check: -0 is below +0.
INLINE compute_t min_of_numbers(compute_t a, compute_t b)
{
    if (a < b) return a;
    if (b < a) return b;
    return COMPUTE_SIGN_BIT(a) ? a : b;
}

// The C# loop's `IsNaN(x) || IsNaN(min) ? NaN : Min(min, x)`: any NaN wins, and it is the canonical one,
// so the result does not depend on the order a reduction visits the elements.
INLINE compute_t nan_propagating_min(compute_t a, compute_t b)
{
    return (a != a || b != b) ? COMPUTE_NAN : min_of_numbers(a, b);
}

// Sums a per-work-item flag over the work-group into a global counter (telemetry only).
// Skipped as a whole when the host asked for no count: `enabled` is the same for every work-item, so
// no work-item waits at a barrier the others never reach.
#define WORK_GROUP_COUNT_INTO(enabled, counter, flag, scratch)                              \
    do {                                                                                    \
        if (enabled)                                                                        \
        {                                                                                   \
            scratch[LOCAL_ID()] = (u32)(flag);                                              \
            LOCAL_BARRIER();                                                                \
            for (int stride = WORK_GROUP_SIZE / 2; stride > 0; stride >>= 1)                \
            {                                                                               \
                if (LOCAL_ID() < stride) scratch[LOCAL_ID()] += scratch[LOCAL_ID() + stride]; \
                LOCAL_BARRIER();                                                            \
            }                                                                               \
            if (LOCAL_ID() == 0 && scratch[0] != 0u) ATOMIC_ADD_U32((counter), scratch[0]); \
        }                                                                                   \
    } while (0)
