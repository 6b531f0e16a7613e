namespace Optimizers;

/// <summary>Element type of a parameter, gradient or state buffer.</summary>
public enum DType
{
    /// <summary>IEEE binary32 (<see cref="float"/>). The default state dtype.</summary>
    Float32,
    /// <summary>IEEE binary64 (<see cref="double"/>).</summary>
    Float64,
    /// <summary>bfloat16: binary32's exponent with an 8-bit significand. State only; computed in float32, rounded to nearest even when stored.</summary>
    BFloat16,
    /// <summary>IEEE binary16 (<see cref="Half"/>). State only; computed in float32, rounded to nearest even when stored.</summary>
    Float16,
}
