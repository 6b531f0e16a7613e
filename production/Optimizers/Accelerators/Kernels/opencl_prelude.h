// OpenCL C 1.2 dialect of the shared kernel subset (see common.h and paper-notes/backends.md).
// The host prepends this file, then common.h, then one family file, and passes
// -DPARAM_KIND=.. -DSTATE_KIND=.. (see common.h) and -cl-fp32-correctly-rounded-divide-sqrt.

// Without this PoCL (and most GPU drivers) fuse a*b+c, and the result stops matching the C# kernel.
#pragma OPENCL FP_CONTRACT OFF

#if PARAM_KIND == 1 || STATE_KIND == 1
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define KERNEL __kernel
#define GLOBAL __global
#define INLINE static inline
#define LOCAL_ARRAY(type, name, count) __local type name[count]
#define LOCAL_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GLOBAL_ID() ((int)get_global_id(0))
#define GLOBAL_SIZE() ((int)get_global_size(0))
#define LOCAL_ID() ((int)get_local_id(0))
#define GROUP_ID() ((int)get_group_id(0))

typedef ushort u16;
typedef uint u32;
typedef ulong u64;

#define F32_AS_U32(x) as_uint(x)
#define U32_AS_F32(x) as_float(x)
#define F64_AS_U64(x) as_ulong(x)
#define U64_AS_F64(x) as_double(x)

// fma() is the correctly rounded fused multiply-add in OpenCL C; it is used only where the C# kernel
// calls FusedMultiplyAdd. sqrt and / are correctly rounded under -cl-fp32-correctly-rounded-divide-sqrt.
#define FMA(a, b, c) fma((a), (b), (c))
#define SQRT(x) sqrt(x)
#define ATOMIC_ADD_U32(pointer, value) atomic_add((pointer), (value))

// float16 state: the OpenCL built-ins round to nearest even when storing and widen exactly when loading.
// The HALF_VIA_BITS build option switches to common.h's bit-level conversions (the ones CUDA uses),
// so those can be proven on PoCL too.
#ifndef HALF_VIA_BITS
#define HALF_STORAGE_T half
INLINE float half_load(GLOBAL const half* p, int i) { return vload_half(i, p); }
INLINE void half_store(GLOBAL half* p, int i, float x) { vstore_half_rte(x, i, p); }
INLINE float half_round(float x)
{
    u16 bits;
    vstore_half_rte(x, 0, (__private half*)&bits);
    return vload_half(0, (__private const half*)&bits);
}
#endif
