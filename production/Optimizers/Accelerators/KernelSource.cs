using System.Reflection;

namespace Optimizers.Accelerators;

/// <summary>The optimizer families that have one kernel text each under Accelerators/Kernels.</summary>
public enum KernelFamily
{
    /// <summary>AdamSRF, HomeAdam and HomeAdamEW (homeadam_family.cl.h).</summary>
    HomeAdamFamily,
    /// <summary>torch 1.13 AdamW and STAC's cap (adamw.cl.h).</summary>
    AdamW,
    /// <summary>STAC's sign-momentum trunk (stac_trunk.cl.h).</summary>
    StacTrunk,
    /// <summary>The per-parameter non-finite-gradient flags of SkipStep and Throw (gradient_check.cl.h).</summary>
    GradientCheck,
}

/// <summary>The language a kernel text is compiled as.</summary>
public enum KernelDialect
{
    /// <summary>OpenCL C 1.2.</summary>
    OpenCl,
    /// <summary>CUDA C++ through NVRTC.</summary>
    Cuda,
}

/// <summary>
/// Assembles the single kernel source of a family for one dialect: the dialect's prelude, the shared
/// helpers, then the family's kernels. Dtypes are chosen by preprocessor macros, so one text serves
/// every (parameter, state) pair.
/// </summary>
public static class KernelSource
{
    /// <summary>Work-items per work-group (CUDA: threads per block); the kernels' reductions assume it.</summary>
    public const int WorkGroupSize = 256;

    static readonly Dictionary<string, string> Texts = new();

    /// <summary>The complete source text of <paramref name="family"/> in <paramref name="dialect"/>.</summary>
    public static string Compose(KernelDialect dialect, KernelFamily family)
    {
        string prelude = Resource(dialect == KernelDialect.OpenCl ? "opencl_prelude.h" : "cuda_prelude.h");
        return string.Join('\n', prelude, Resource("common.h"), Resource(FileName(family)));
    }

    /// <summary>The embedded file that holds <paramref name="family"/>'s kernels.</summary>
    public static string FileName(KernelFamily family) => family switch
    {
        KernelFamily.HomeAdamFamily => "homeadam_family.cl.h",
        KernelFamily.AdamW => "adamw.cl.h",
        KernelFamily.StacTrunk => "stac_trunk.cl.h",
        KernelFamily.GradientCheck => "gradient_check.cl.h",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown kernel family."),
    };

    /// <summary>The macro definitions that select the parameter and state dtypes, as compiler options.</summary>
    public static IReadOnlyList<string> Defines(DType param, DType state)
    {
        if (param is not (DType.Float32 or DType.Float64))
            throw new ArgumentOutOfRangeException(nameof(param), param, "Parameters are Float32 or Float64.");
        return [$"-DPARAM_KIND={Kind(param)}", $"-DSTATE_KIND={Kind(state)}"];
    }

    /// <summary>The STATE_KIND / PARAM_KIND code of a dtype (common.h).</summary>
    public static int Kind(DType dtype) => dtype switch
    {
        DType.Float32 => 0,
        DType.Float64 => 1,
        DType.Float16 => 2,
        DType.BFloat16 => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "dtype must be Float32, Float64, Float16 or BFloat16."),
    };

    /// <summary>Every (parameter, state) pair a family is built for.</summary>
    public static IEnumerable<(DType Param, DType State)> Variants(KernelFamily family)
    {
        foreach (var param in new[] { DType.Float32, DType.Float64 })
        {
            if (family is KernelFamily.AdamW or KernelFamily.GradientCheck)
            {
                yield return (param, param);
                continue;
            }
            foreach (var state in new[] { DType.Float32, DType.Float64, DType.Float16, DType.BFloat16 })
                yield return (param, state);
        }
    }

    /// <summary>The kernel entry points of a family, as exported by both dialects.</summary>
    public static IReadOnlyList<string> EntryPoints(KernelFamily family) => family switch
    {
        KernelFamily.HomeAdamFamily => ["homeadam_step", "homeadam_moments", "homeadam_fold_min", "homeadam_group_begin", "homeadam_decide", "homeadam_apply"],
        KernelFamily.AdamW => ["adamw_step"],
        KernelFamily.StacTrunk => ["stac_trunk_step"],
        KernelFamily.GradientCheck => ["gradient_flag_nonfinite"],
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    static string Resource(string fileName)
    {
        lock (Texts)
        {
            if (Texts.TryGetValue(fileName, out var cached)) return cached;
            var assembly = typeof(KernelSource).Assembly;
            string name = "Optimizers.Accelerators.Kernels." + fileName;
            using var stream = assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"Kernel source {name} is not embedded in {assembly.GetName().Name}.");
            using var reader = new StreamReader(stream);
            string text = reader.ReadToEnd();
            Texts[fileName] = text;
            return text;
        }
    }
}
