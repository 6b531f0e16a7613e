namespace Optimizers.Reference

open System

/// Constructor checks shared by every optimizer. Each raises before anything is built, names the upstream argument
/// (ParamName) and states the valid range. NaN handling follows from writing each condition as upstream does:
/// a one-sided check `x < 0` lets NaN through, a range check `not (0 <= x < 1)` rejects it.
module Validation =

    /// <summary>Upstream's <c>if value &lt; 0.0: raise</c> (NaN passes).</summary>
    let requireNotNegative (argument: string) (label: string) (value: float) : unit =
        if value < 0.0 then
            raise (ArgumentOutOfRangeException(argument, value, sprintf "Invalid %s: %g (expected %s >= 0)." label value argument))

    /// <summary>torch's <c>if not 0.0 &lt;= value: raise</c> (NaN fails).</summary>
    let requireZeroOrMore (argument: string) (label: string) (value: float) : unit =
        if not (0.0 <= value) then
            raise (ArgumentOutOfRangeException(argument, value, sprintf "Invalid %s: %g (expected %s >= 0, not NaN)." label value argument))

    /// <summary>Upstream's <c>if not 0.0 &lt;= value &lt; 1.0: raise</c> (NaN fails).</summary>
    let requireUnitInterval (argument: string) (label: string) (value: float) : unit =
        if not (0.0 <= value && value < 1.0) then
            raise (ArgumentOutOfRangeException(argument, value, sprintf "Invalid %s: %g (expected 0 <= %s < 1)." label value label))

    /// <summary>Upstream's <c>if value &lt;= 0.0: raise</c> (NaN passes).</summary>
    let requirePositive (argument: string) (value: float) : unit =
        if value <= 0.0 then
            raise (ArgumentOutOfRangeException(argument, value, sprintf "Invalid %s: %g (expected %s > 0)." argument value argument))

    /// <summary>A state dtype must be floating point when given.</summary>
    let requireFloatingState (argument: string) (dtype: StateDType option) : unit =
        match dtype with
        | Some (NonFloating name) ->
            raise (ArgumentException(sprintf "%s must be floating-point (float64, float32, bfloat16 or float16), got: %s." argument name, argument))
        | _ -> ()
