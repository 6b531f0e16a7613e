using System.Globalization;

namespace Optimizers;

/// <summary>What <c>Step()</c> does when some gradient holds NaN or ±∞. Decided over every group before anything is written.</summary>
public enum NonFinitePolicy
{
    /// <summary>Step anyway and let NaN/∞ flow into parameters and state, as upstream HomeAdam, torch AdamW and STAC 0.1.2 do.</summary>
    Propagate,
    /// <summary>Skip the whole step: no parameter, state or step counter changes (STAC 0.1.3 and later; STAC's default).</summary>
    SkipStep,
    /// <summary>Throw <see cref="NonFiniteGradientException"/> naming the first offending parameter; nothing changes.</summary>
    Throw,
}

/// <summary>Options of one optimizer (or of one parameter group). Immutable; validated once, when an optimizer is built from them.</summary>
public abstract record OptimizerOptions
{
    /// <summary>The non-finite-gradient policy. It is decided for the whole optimizer, so every group must carry the same value.</summary>
    public abstract NonFinitePolicy NonFinitePolicy { get; init; }

    /// <summary>Checks every value in upstream's order; throws on the first invalid one.</summary>
    internal abstract void Validate();
}

/// <summary>A parameter group: parameters that share options. <paramref name="Options"/> <c>null</c> means the optimizer's defaults.</summary>
/// <typeparam name="TOptions">The optimizer's options record.</typeparam>
/// <param name="Parameters">The group's parameters, in the order state and kernels visit them.</param>
/// <param name="Options">This group's options, usually <c>defaults with { Lr = ... }</c>. Validated like the defaults (upstream does not validate group values; this library does).</param>
public sealed record ParamGroup<TOptions>(IReadOnlyList<Parameter> Parameters, TOptions? Options = null) where TOptions : OptimizerOptions;

/// <summary>Thrown by <c>Step()</c> under <see cref="NonFinitePolicy.Throw"/> when a gradient holds NaN or ±∞. Nothing was changed.</summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception for <paramref name="parameterName"/>.</summary>
    public NonFiniteGradientException(string optimizer, string parameterName, int count)
        : base($"{optimizer}: encountered non-finite gradients in parameter '{parameterName}' ({count} parameter(s) in all); the step was not taken.")
    {
        ParameterName = parameterName;
    }

    /// <summary>The first parameter whose gradient is not finite.</summary>
    public string ParameterName { get; }
}

/// <summary>Option checks with upstream's conditions and messages that name the option and its valid range.</summary>
internal static class OptionCheck
{
    internal static string Format(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Upstream's check <c>value &lt; 0</c>, tightened to refuse NaN as well: upstream's one-sided comparison lets NaN through
    /// and the run then silently produces NaN, whereas this library names the bad option (paper-notes/deviations.md).
    /// </summary>
    internal static void NonNegative(double value, string option, string label, string symbol)
    {
        if (!(value >= 0.0)) throw new ArgumentOutOfRangeException(option, $"Invalid {label}: {Format(value)} (expected {symbol} ≥ 0).");
    }

    /// <summary>Upstream's range check <c>not 0 ≤ value &lt; 1</c> (so NaN fails).</summary>
    internal static void UnitInterval(double value, string option, string label, string symbol)
    {
        if (!(0.0 <= value && value < 1.0)) throw new ArgumentOutOfRangeException(option, $"Invalid {label}: {Format(value)} (expected 0 ≤ {symbol} < 1).");
    }

    internal static void StateDType(DType? value, string option)
    {
        if (value is { } d && !Enum.IsDefined(d))
            throw new ArgumentOutOfRangeException(option, $"Invalid {option}: {(int)d} (expected Float32, Float64, BFloat16, Float16 or null to follow the parameter).");
    }

    internal static void Policy(NonFinitePolicy value, string option)
    {
        if (!Enum.IsDefined(value))
            throw new ArgumentOutOfRangeException(option, $"Invalid {option}: {(int)value} (expected Propagate, SkipStep or Throw).");
    }
}
