namespace Optimizers.CheckpointKillTest;

/// <summary>The optimizer the helper saves and the test loads into: one definition, so both sides always agree.</summary>
public static class KillTestModel
{
    /// <summary>An AdamW over one float32 parameter of <paramref name="elements"/> values and a second small one.</summary>
    public static (Optimizer Optimizer, Parameter[] Parameters) Create(int elements)
    {
        Parameter[] parameters = [new Parameter("big", [elements]), new Parameter("small", [3, 2])];
        return (new AdamW(parameters, new AdamWOptions { Lr = 1e-3 }), parameters);
    }

    /// <summary>A gradient that differs from step to step, so every checkpoint holds different numbers.</summary>
    public static void SetGradients(Parameter[] parameters, int step)
    {
        foreach (var p in parameters)
        {
            var g = p.AttachGrad<float>();
            for (int i = 0; i < g.Length; i++) g[i] = (float)Math.Sin(0.001 * i + step);
        }
    }
}
