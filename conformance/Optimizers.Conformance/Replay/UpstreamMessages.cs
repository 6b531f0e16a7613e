using System.Text.RegularExpressions;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Replay;

/// <summary>
/// Which argument an upstream error message is about, in upstream's spelling, so that an error raised by another
/// implementation (with its own wording) can be matched by kind and argument rather than by text.
/// </summary>
public static partial class UpstreamMessages
{
    /// <summary>The argument an error names: from the message, else, when the message names none and the record
    /// passed exactly one argument, that argument.</summary>
    public static string? ArgumentOf(ErrorRecord record)
    {
        var named = ArgumentOf(record.Message);
        if (named is not null || record.Exception is null) return named;
        var passed = record.Args.Keys.Where(k => k is not "model" and not "params" and not "positional").ToList();
        return passed.Count == 1 ? Canonical(passed[0]) : null;
    }

    public static string? ArgumentOf(string? message)
    {
        if (string.IsNullOrWhiteSpace(message)) return null;
        var m = UnexpectedKeyword().Match(message);
        if (m.Success) return Canonical(m.Groups[1].Value);
        if (message.StartsWith("Invalid learning rate", StringComparison.Ordinal)) return "lr";
        m = InvalidName().Match(message);
        if (m.Success) return Canonical(m.Groups[1].Value);
        m = MustClause().Match(message);
        if (m.Success) return Canonical(m.Groups[1].Value);
        if (message.Contains("empty parameter list", StringComparison.Ordinal)) return "params";
        if (message.Contains("sparse gradients", StringComparison.Ordinal)) return "grad";
        if (message.Contains("non-finite gradients", StringComparison.Ordinal)) return "grad";
        if (message.Contains("trainable parameter", StringComparison.Ordinal)) return "model";
        if (message.Contains("'named_modules'", StringComparison.Ordinal)) return "model";
        return null;
    }

    /// <summary>One spelling per argument: beta1/beta2/"beta parameter" → betas, epsilon → eps, learning rate → lr.</summary>
    public static string Canonical(string argument)
    {
        var a = argument.Trim().ToLowerInvariant().Replace(' ', '_');
        return a switch
        {
            "beta1" or "beta2" or "beta" or "beta_parameter" => "betas",
            "epsilon" => "eps",
            "learning_rate" or "learning" => "lr",
            _ => a,
        };
    }

    [GeneratedRegex(@"unexpected keyword argument '([A-Za-z_][A-Za-z_0-9]*)'")]
    private static partial Regex UnexpectedKeyword();

    [GeneratedRegex(@"^Invalid ([A-Za-z_][A-Za-z_0-9]*)")]
    private static partial Regex InvalidName();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z_0-9]*) must ")]
    private static partial Regex MustClause();
}
