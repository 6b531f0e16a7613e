using Optimizers.Accelerators.Cuda;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Checkpoints;
using Optimizers.Kernels;
using static Optimizers.Tests.Checkpoints.CheckpointScenarios;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests.Accelerators;

/// <summary>
/// The production optimizers on OpenCL (PoCL here) against the same optimizers on the scalar CPU path: every kind, float32
/// and float64 parameters, every state dtype, several groups, STAC with trunk and cap, parameters that miss gradients at
/// some steps, the non-finite policies, telemetry, and checkpoints crossing between the backends.
/// </summary>
public sealed class OpenClOptimizerTests(OpenClBackendFixture fixture) : IClassFixture<OpenClBackendFixture>
{
    const int Steps = 8;

    ExecutionBackend OpenCl => ExecutionBackend.On(fixture.Backend);

    public static IEnumerable<object[]> ScenariosWithTelemetry
        => from name in Names.Select(n => (string)n[0]) from telemetry in new[] { false, true } select new object[] { name, telemetry };

    /// <summary>The scenarios' gradients, and on top a parameter that skips every third step, so runs split and rejoin.</summary>
    static void Gradients(Built b, int step)
    {
        SetGradients(b.Parameters, step, b.Optimizer.NonFinitePolicy == NonFinitePolicy.SkipStep);
        var dropped = b.Parameters[step % b.Parameters.Count];
        if (step % 3 == 2) dropped.ClearGrad();
    }

    [OpenClTheory]
    [MemberData(nameof(ScenariosWithTelemetry))]
    public void Every_step_is_bit_identical_to_the_scalar_cpu_optimizer(string scenario, bool telemetry)
    {
        var cpu = Build(scenario, 1, KernelPath.Scalar, null);
        var device = Build(scenario, 1, KernelPath.Auto, OpenCl);
        using var _ = device.Optimizer;
        Assert.Equal(ExecutionBackendKind.OpenCl, device.Optimizer.Backend);
        cpu.Optimizer.TelemetryEnabled = device.Optimizer.TelemetryEnabled = telemetry;
        for (int step = 0; step < Steps; step++)
        {
            Gradients(cpu, step);
            Gradients(device, step);
            cpu.Optimizer.Step();
            device.Optimizer.Step();
            AssertSameState(cpu, device, $"{scenario}, step {step}");
            if (telemetry) AssertSameTelemetry(cpu.Optimizer, device.Optimizer, $"{scenario}, step {step}");
        }
        Assert.Equal(cpu.Optimizer.NonFiniteSkippedSteps, device.Optimizer.NonFiniteSkippedSteps);
    }

    [OpenClTheory]
    [MemberData(nameof(Names), MemberType = typeof(Checkpoints.CheckpointScenarios))]
    public void Steps_without_reading_back_in_between_end_where_the_cpu_ends(string scenario)
    {
        // Nothing is downloaded between steps: values and state stay on the device until Dispose brings them home.
        var cpu = Build(scenario, 3, KernelPath.Scalar, null);
        var device = Build(scenario, 3, KernelPath.Auto, OpenCl);
        for (int step = 0; step < Steps; step++)
        {
            Gradients(cpu, step);
            Gradients(device, step);
            cpu.Optimizer.Step();
            device.Optimizer.Step();
        }
        device.Optimizer.Dispose();
        AssertSameState(cpu, device, $"{scenario}, after Dispose");
        Assert.Throws<ObjectDisposedException>(device.Optimizer.Step);
    }

    [OpenClFact]
    public void A_nan_gradient_propagates_as_on_the_cpu_including_the_nan_group_minimum()
    {
        // Group a decides non-capturable (a NaN minimum goes adaptive), group b capturable (a NaN minimum goes SGDM).
        foreach (var scenario in new[] { "HomeAdam state Float32", "HomeAdam state Float64", "HomeAdamEW state BFloat16", "AdamW amsgrad, two groups, mixed dtypes" })
        {
            var cpu = Build(scenario, 5, KernelPath.Scalar, null);
            var device = Build(scenario, 5, KernelPath.Auto, OpenCl);
            using var _ = device.Optimizer;
            cpu.Optimizer.TelemetryEnabled = device.Optimizer.TelemetryEnabled = true;
            for (int step = 0; step < 5; step++)
            {
                foreach (var b in new[] { cpu, device })
                {
                    Gradients(b, step);
                    if (step == 2)
                        foreach (var p in b.Parameters.Where(p => p.HasGrad && p.Length > 0).Take(2).Concat(b.Parameters.Where(p => p.Name == "b.w" && p.HasGrad)))
                            if (p.DType == DType.Float32) p.Grad<float>()[0] = float.NaN; else p.Grad<double>()[0] = double.PositiveInfinity;
                    b.Optimizer.Step();
                }
                AssertSameState(cpu, device, $"{scenario}, step {step}");
                AssertSameTelemetry(cpu.Optimizer, device.Optimizer, $"{scenario}, step {step}");
            }
            Assert.Contains(device.Parameters, p => Values(p).Any(double.IsNaN));
        }
    }

    [OpenClFact]
    public void The_throw_policy_names_the_same_parameter_and_changes_nothing_on_the_device()
    {
        (Built, List<long>) Run(ExecutionBackend? backend)
        {
            List<Parameter> a = [new Parameter("a.w", [3, 5]), new Parameter("a.b", [5], DType.Float64)];
            List<Parameter> b = [new Parameter("b.w", [7], DType.Float64), new Parameter("b.bad", [9])];
            int k = 0;
            foreach (var p in a.Concat(b)) Fill(p, new Random(k++));
            var options = new AdamSrfOptions { NonFinitePolicy = NonFinitePolicy.Throw };
            // The optimizer opens (and owns) its own OpenCL context here, the path ExecutionBackend.OpenCl() takes.
            var built = new Built(new AdamSrf([new ParamGroup<AdamSrfOptions>(a, options), new ParamGroup<AdamSrfOptions>(b, options)], options, backend: backend), [.. a, .. b]);
            SetGradients(built.Parameters, 0, injectNaN: false);
            built.Optimizer.Step();
            var before = Fingerprint(built.Optimizer, built.Parameters);
            SetGradients(built.Parameters, 1, injectNaN: false);
            b[1].Grad<float>()[8] = float.NegativeInfinity;
            a[1].ClearGrad();
            var error = Assert.Throws<NonFiniteGradientException>(built.Optimizer.Step);
            Assert.Equal("b.bad", error.ParameterName);
            Assert.Equal(before, Fingerprint(built.Optimizer, built.Parameters));
            return (built, before);
        }
        var (cpu, cpuBefore) = Run(null);
        var (device, deviceBefore) = Run(ExecutionBackend.OpenCl(OpenClDevices.All[0]));
        using var _ = device.Optimizer;
        Assert.Equal(cpuBefore, deviceBefore);
        // The refused step left the device untouched too: the next good step matches the CPU.
        foreach (var b in new[] { cpu, device })
        {
            SetGradients(b.Parameters, 2, injectNaN: false);
            b.Optimizer.Step();
        }
        AssertSameState(cpu, device, "after the refused step");
    }

    public static IEnumerable<object[]> CheckpointDirections
        => from name in Names.Select(n => (string)n[0]) from toCpu in new[] { true, false } select new object[] { name, toCpu };

    [OpenClTheory]
    [MemberData(nameof(CheckpointDirections))]
    public void A_checkpoint_crosses_between_opencl_and_cpu_and_continues_bit_identically(string scenario, bool openClToCpu)
    {
        const int before = 3, after = 4;
        string dir = Directory.CreateTempSubdirectory("ocl-ckpt-").FullName;
        try
        {
            string path = Path.Combine(dir, "cross.safetensors");
            ExecutionBackend? writer = openClToCpu ? OpenCl : null, reader = openClToCpu ? null : OpenCl;
            var straight = Build(scenario, 1, KernelPath.Scalar, null);
            var saving = Build(scenario, 1, KernelPath.Auto, writer);
            using var s = saving.Optimizer;
            for (int step = 0; step < before; step++)
                foreach (var b in new[] { straight, saving })
                {
                    Gradients(b, step);
                    b.Optimizer.Step();
                }
            Checkpoint.Save(saving.Optimizer, path);

            // Other initial values and a few steps of its own, so anything the load fails to overwrite shows.
            var resumed = Build(scenario, 2, KernelPath.Auto, reader);
            using var r = resumed.Optimizer;
            Run(resumed, 2, 5);
            Checkpoint.Load(resumed.Optimizer, path);
            AssertSameState(straight, resumed, $"{scenario}, loaded");
            for (int step = before; step < before + after; step++)
                foreach (var b in new[] { straight, resumed })
                {
                    Gradients(b, step);
                    b.Optimizer.Step();
                }
            AssertSameState(straight, resumed, $"{scenario}, resumed");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [OpenClFact]
    public void A_cpu_code_path_cannot_be_combined_with_an_accelerator()
    {
        var p = new Parameter("w", [3]);
        var error = Assert.Throws<ArgumentException>(() => new AdamW([p], null, KernelPath.Simd, OpenCl));
        Assert.Equal("kernelPath", error.ParamName);
        using var cpu = new AdamW([p]); // nothing was re-homed by the refused constructor
    }

    [Fact]
    public void A_missing_cuda_device_is_refused_before_any_parameter_moves()
    {
        var p = Parameter.Create("w", [1f, 2f, 3f], 3);
        if (CudaKernelBackend.Availability.IsAvailable)
        {
            using var cuda = new HomeAdam([p], backend: ExecutionBackend.Cuda());
            Assert.Equal(ExecutionBackendKind.Cuda, cuda.Backend);
            return;
        }
        var error = Assert.Throws<PlatformNotSupportedException>(() => new HomeAdam([p], backend: ExecutionBackend.Cuda()));
        Assert.Contains(CudaKernelBackend.Availability.Reason, error.Message);
        using var cpu = new HomeAdam([p]);
        Assert.Equal([1f, 2f, 3f], p.Value<float>().ToArray());
    }

    // ---- comparisons ---------------------------------------------------------------------------

    /// <summary>Parameters, counters and every state buffer, bit for bit; a NaN matches any NaN (paper-notes/backends.md).</summary>
    static void AssertSameState(Built expected, Built actual, string what)
    {
        var e = Fingerprint(expected.Optimizer, expected.Parameters);
        var a = Fingerprint(actual.Optimizer, actual.Parameters);
        Assert.Equal(e.Count, a.Count);
        for (int i = 0; i < e.Count; i++)
        {
            if (e[i] == a[i]) continue;
            if (double.IsNaN(BitConverter.Int64BitsToDouble(e[i])) && double.IsNaN(BitConverter.Int64BitsToDouble(a[i]))) continue;
            Assert.Fail($"{what}: fingerprint element {i} differs: CPU {BitConverter.Int64BitsToDouble(e[i]):R} (0x{e[i]:X16}), OpenCL {BitConverter.Int64BitsToDouble(a[i]):R} (0x{a[i]:X16}).");
        }
    }

    static void AssertSameTelemetry(Optimizer expected, Optimizer actual, string what)
    {
        for (int g = 0; g < expected.GroupCount; g++)
        {
            var e = expected.Telemetry[g];
            var a = actual.Telemetry[g];
            Assert.True((e.Steps, e.Skipped, e.NonFiniteGradients, e.SteppedElements, e.AdaptiveElements) == (a.Steps, a.Skipped, a.NonFiniteGradients, a.SteppedElements, a.AdaptiveElements),
                $"{what}, group {g}: CPU telemetry ({e.Steps}, {e.Skipped}, {e.NonFiniteGradients}, {e.SteppedElements}, {e.AdaptiveElements}), OpenCL ({a.Steps}, {a.Skipped}, {a.NonFiniteGradients}, {a.SteppedElements}, {a.AdaptiveElements}).");
        }
    }
}
