// CUDA C++ dialect of the shared kernel subset (see common.h and paper-notes/backends.md).
// Compiled by NVRTC with --fmad=false --prec-div=true --prec-sqrt=true --ftz=false and
// -DPARAM_KIND=.. -DSTATE_KIND=.. (see common.h). No CUDA headers are needed.

#define KERNEL extern "C" __global__
#define GLOBAL
#define INLINE static __device__ __forceinline__
#define LOCAL_ARRAY(type, name, count) __shared__ type name[count]
#define LOCAL_BARRIER() __syncthreads()
#define GLOBAL_ID() ((int)(blockIdx.x * blockDim.x + threadIdx.x))
#define GLOBAL_SIZE() ((int)(gridDim.x * blockDim.x))
#define LOCAL_ID() ((int)threadIdx.x)
#define GROUP_ID() ((int)blockIdx.x)

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define F32_AS_U32(x) __float_as_uint(x)
#define U32_AS_F32(x) __uint_as_float(x)
#define F64_AS_U64(x) ((u64)__double_as_longlong(x))
#define U64_AS_F64(x) __longlong_as_double((long long)(x))

// The _rn intrinsics are IEEE round-to-nearest whatever the contraction flags say; fma is used only
// where the C# kernel calls FusedMultiplyAdd.
INLINE float op_fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
INLINE double op_fma(double a, double b, double c) { return __fma_rn(a, b, c); }
INLINE float op_sqrt(float x) { return __fsqrt_rn(x); }
INLINE double op_sqrt(double x) { return __dsqrt_rn(x); }
#define FMA(a, b, c) op_fma((a), (b), (c))
#define SQRT(x) op_sqrt(x)
#define ATOMIC_ADD_U32(pointer, value) atomicAdd((pointer), (value))

// No cuda_fp16.h under NVRTC without the toolkit headers: float16 goes through common.h's bit-level
// conversions, which reproduce System.Half's rounding (including NaN payloads) and are tested on PoCL.
#define HALF_VIA_BITS 1
