using System.Text.Json;
using Optimizers.Conformance.Replay;

namespace Optimizers.Conformance.Reporting;

/// <summary>
/// The machine-readable result of a replay: <c>{"cases":[{"id","verdict","max_rel","max_ulp","ambiguous","first_failure"}],"errors":[...]}</c>.
/// Non-finite numbers are written as the strings <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>, as in the golden files.
/// </summary>
public static class JsonReport
{
    public static void Write(Stream stream, ReplayReport report, bool withDetail = false)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        if (withDetail) Header(w, report);
        WriteCases(w, report, withDetail);
        WriteErrors(w, report);
        w.WriteEndObject();
    }

    /// <summary>Several implementations in one document (the <c>run</c> verb's report.json).</summary>
    public static void WriteMany(Stream stream, IReadOnlyList<ReplayReport> reports, IReadOnlyDictionary<string, string> machine)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("machine");
        foreach (var (k, v) in machine) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteStartArray("implementations");
        foreach (var report in reports)
        {
            w.WriteStartObject();
            Header(w, report);
            WriteCases(w, report, withDetail: true);
            WriteErrors(w, report);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void Header(Utf8JsonWriter w, ReplayReport report)
    {
        w.WriteString("source", report.Source);
        w.WriteString("implementation", report.Implementation);
        w.WriteString("mode", report.Mode);
        w.WriteBoolean("free_running", report.FreeRunning);
        w.WriteBoolean("passed", report.Passed);
        w.WriteString("outcome", report.Outcome);
    }

    static void WriteCases(Utf8JsonWriter w, ReplayReport report, bool withDetail)
    {
        w.WriteStartArray("cases");
        foreach (var c in report.Cases)
        {
            w.WriteStartObject();
            w.WriteString("id", c.Id);
            w.WriteString("verdict", Name(c.Verdict));
            Number(w, "max_rel", c.MaxRelative);
            Number(w, "max_ulp", c.MaxUlp);
            w.WriteNumber("ambiguous", c.Ambiguous);
            w.WriteNumber("unbounded", c.Unbounded);
            if (c.FirstFailure is { } f)
            {
                w.WriteStartObject("first_failure");
                w.WriteNumber("step", f.Step);
                w.WriteString("buffer", f.Buffer);
                w.WriteNumber("index", f.Index);
                Number(w, "expected", f.Expected);
                Number(w, "actual", f.Actual);
                w.WriteEndObject();
            }
            else w.WriteNull("first_failure");
            if (withDetail)
            {
                w.WriteString("optimizer", c.Optimizer);
                w.WriteNumber("steps", c.Steps);
                w.WriteNumber("resyncs", c.Resyncs);
                if (c.Reason is not null) w.WriteString("reason", c.Reason);
                w.WriteStartArray("worst");
                foreach (var e in c.Worst) Element(w, e);
                w.WriteEndArray();
                w.WriteStartArray("per_step");
                foreach (var s in c.PerStep)
                {
                    w.WriteStartObject();
                    w.WriteNumber("step", s.Step);
                    Number(w, "max_ulp", s.MaxUlp);
                    Number(w, "max_rel", s.MaxRelative);
                    Number(w, "max_severity", s.MaxSeverity);
                    w.WriteNumber("ambiguous", s.Ambiguous);
                    if (s.AdaptiveFraction is { } a) w.WriteNumber("adaptive_fraction", a);
                    w.WriteBoolean("resynced", s.Resynced);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            else if (c.Reason is not null) w.WriteString("reason", c.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    static void WriteErrors(Utf8JsonWriter w, ReplayReport report)
    {
        w.WriteStartArray("errors");
        foreach (var e in report.Errors)
        {
            w.WriteStartObject();
            w.WriteString("id", e.Id);
            w.WriteString("verdict", Name(e.Verdict));
            w.WriteString("expected_kind", e.ExpectedKind);
            w.WriteString("expected_argument", e.ExpectedArgument);
            w.WriteString("actual_kind", e.ActualKind);
            w.WriteString("actual_argument", e.ActualArgument);
            if (e.Detail is not null) w.WriteString("detail", e.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    static void Element(Utf8JsonWriter w, ElementReport e)
    {
        w.WriteStartObject();
        w.WriteNumber("step", e.Step);
        w.WriteString("buffer", e.Buffer);
        w.WriteNumber("index", e.Index);
        Number(w, "expected", e.Expected);
        Number(w, "actual", e.Actual);
        Number(w, "ulps", e.Ulps);
        Number(w, "relative", e.Relative);
        Number(w, "allowed", e.Allowed);
        Number(w, "severity", e.Severity);
        if (e.Note is not null) w.WriteString("note", e.Note);
        w.WriteEndObject();
    }

    public static string Name(Verdict v) => v switch
    {
        Verdict.Pass => "pass",
        Verdict.Fail => "fail",
        _ => "unsupported",
    };

    static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsNaN(value)) w.WriteString(name, "NaN");
        else if (double.IsPositiveInfinity(value)) w.WriteString(name, "Infinity");
        else if (double.IsNegativeInfinity(value)) w.WriteString(name, "-Infinity");
        else w.WriteNumber(name, value);
    }
}
