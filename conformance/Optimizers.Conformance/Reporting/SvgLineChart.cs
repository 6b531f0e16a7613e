using System.Globalization;
using System.Security;
using System.Text;

namespace Optimizers.Conformance.Reporting;

public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <param name="ReferenceY">A horizontal line (the tolerance bound, say) drawn dashed and labelled.</param>
/// <param name="Note">A line of small print under the plot (what the floor means, how values were clamped).</param>
public sealed record ChartSpec(string Title, string XLabel, string YLabel, bool LogY, double YMin, double YMax,
    double? ReferenceY = null, string? ReferenceLabel = null, string? Note = null);

/// <summary>Hand-written SVG line charts: axes with ticks and labels, a title, a legend, no dependencies.</summary>
public static class SvgLineChart
{
    const int Width = 1080, Height = 520;
    const int Left = 90, Top = 56, LegendWidth = 400, Bottom = 78;
    const int PlotRight = Width - LegendWidth, PlotBottom = Height - Bottom;

    // Points sit this far inside the frame, so a value at the floor or at step 0 is not drawn on the frame itself.
    const int Inset = 12;

    static readonly string[] Palette =
    [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
    ];

    // Colour, marker and dash cycle with coprime periods (10, 7, 4), so no two of the first 140 series look alike even
    // where their lines coincide: cases that agree exactly, or a short case lying on a longer one, stay distinguishable.
    static readonly string[] Dashes = ["", "8 4", "2 3", "10 3 2 3"];
    const int MarkerKinds = 7;

    public static string Render(ChartSpec spec, IReadOnlyList<ChartSeries> series)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", inv);
        double xMax = Math.Max(1, series.SelectMany(s => s.Points).Select(p => p.X).DefaultIfEmpty(1).Max());
        double xMin = Math.Min(0, series.SelectMany(s => s.Points).Select(p => p.X).DefaultIfEmpty(0).Min());

        double X(double x) => Left + Inset + (x - xMin) / (xMax - xMin) * (PlotRight - Left - 2 * Inset);
        double Y(double y)
        {
            double clamped = Math.Clamp(double.IsNaN(y) ? spec.YMin : y, spec.YMin, spec.YMax);
            double f = spec.LogY
                ? (Math.Log10(clamped) - Math.Log10(spec.YMin)) / (Math.Log10(spec.YMax) - Math.Log10(spec.YMin))
                : (clamped - spec.YMin) / (spec.YMax - spec.YMin);
            return PlotBottom - Inset - f * (PlotBottom - Top - 2 * Inset);
        }

        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        // Left-aligned and smaller when long: a centred long title ran off the left edge.
        int titleSize = spec.Title.Length > 80 ? 14 : spec.Title.Length > 64 ? 16 : 18;
        sb.Append(inv, $"<text x=\"16\" y=\"30\" font-size=\"{titleSize}\" font-weight=\"bold\">{Escape(spec.Title)}</text>\n");

        // Grid and y ticks.
        foreach (var (value, label) in YTicks(spec))
        {
            double y = Y(value);
            sb.Append(inv, $"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{PlotRight}\" y2=\"{F(y)}\" stroke=\"#e3e3e3\"/>\n");
            sb.Append(inv, $"<text x=\"{Left - 8}\" y=\"{F(y + 4)}\" font-size=\"12\" text-anchor=\"end\">{Escape(label)}</text>\n");
        }
        foreach (var x in XTicks(xMin, xMax))
        {
            double px = X(x);
            sb.Append(inv, $"<line x1=\"{F(px)}\" y1=\"{Top}\" x2=\"{F(px)}\" y2=\"{PlotBottom}\" stroke=\"#f0f0f0\"/>\n");
            sb.Append(inv, $"<text x=\"{F(px)}\" y=\"{PlotBottom + 18}\" font-size=\"12\" text-anchor=\"middle\">{F(x)}</text>\n");
        }
        sb.Append(inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotRight - Left}\" height=\"{PlotBottom - Top}\" fill=\"none\" stroke=\"#333\"/>\n");
        sb.Append(inv, $"<text x=\"{(Left + PlotRight) / 2}\" y=\"{PlotBottom + 42}\" font-size=\"14\" text-anchor=\"middle\">{Escape(spec.XLabel)}</text>\n");
        sb.Append(inv, $"<text x=\"22\" y=\"{(Top + PlotBottom) / 2}\" font-size=\"14\" text-anchor=\"middle\" transform=\"rotate(-90 22 {(Top + PlotBottom) / 2})\">{Escape(spec.YLabel)}</text>\n");

        if (spec.ReferenceY is { } reference)
        {
            double y = Y(reference);
            sb.Append(inv, $"<line x1=\"{Left}\" y1=\"{F(y)}\" x2=\"{PlotRight}\" y2=\"{F(y)}\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"8 5\"/>\n");
            if (spec.ReferenceLabel is not null)
                sb.Append(inv, $"<text x=\"{PlotRight - 6}\" y=\"{F(y - 6)}\" font-size=\"12\" text-anchor=\"end\">{Escape(spec.ReferenceLabel)}</text>\n");
        }

        // Long series first, short ones on top: a one- or two-step case would otherwise vanish under a longer line. Markers
        // are hollow and shrink with the drawing order, so coinciding points show as nested shapes, each one visible.
        var order = Enumerable.Range(0, series.Count).OrderByDescending(i => series[i].Points.Count).ThenBy(i => i).ToList();
        for (int k = 0; k < order.Count; k++)
        {
            int i = order[k];
            var s = series[i];
            string color = Palette[i % Palette.Length];
            string dash = Dash(i);
            var points = string.Join(" ", s.Points.Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"));
            if (s.Points.Count > 1)
                sb.Append(inv, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-opacity=\"0.85\"{dash}/>\n");
            double size = order.Count <= 1 ? 4.5 : 7.0 - 3.5 * k / (order.Count - 1);
            foreach (var p in s.Points) sb.Append(Marker(i, X(p.X), Y(p.Y), size, color));
        }

        // Legend, beside the plot so it never hides a line.
        int legendX = PlotRight + 18;
        int rowHeight = series.Count > 16 ? 14 : 20;
        sb.Append(inv, $"<text x=\"{legendX}\" y=\"{Top + 4}\" font-size=\"13\" font-weight=\"bold\">Legend</text>\n");
        for (int i = 0; i < series.Count; i++)
        {
            double y = Top + 22 + i * rowHeight;
            string color = Palette[i % Palette.Length];
            sb.Append(inv, $"<line x1=\"{legendX}\" y1=\"{F(y - 4)}\" x2=\"{legendX + 30}\" y2=\"{F(y - 4)}\" stroke=\"{color}\" stroke-width=\"2.5\"{Dash(i)}/>\n");
            sb.Append(Marker(i, legendX + 15, y - 4, 4.5, color));
            sb.Append(inv, $"<text x=\"{legendX + 36}\" y=\"{F(y)}\" font-size=\"{(series.Count > 16 ? 10 : 12)}\">{Escape(Label(spec, series[i]))}</text>\n");
        }
        if (series.Count == 0)
            sb.Append(inv, $"<text x=\"{(Left + PlotRight) / 2}\" y=\"{(Top + PlotBottom) / 2}\" font-size=\"14\" text-anchor=\"middle\">no data</text>\n");
        if (spec.Note is not null)
            sb.Append(inv, $"<text x=\"{Left}\" y=\"{Height - 12}\" font-size=\"11\" fill=\"#555\">{Escape(spec.Note)}</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    // The legend column holds about 46 characters at 12 px; the qualifier is kept whole and the name shortened.
    static string Label(ChartSpec spec, ChartSeries s)
    {
        string qualifier = Qualifier(spec, s);
        return Shorten(s.Name, 46 - qualifier.Length) + qualifier;
    }

    static string Dash(int i) => Dashes[i % Dashes.Length] is { Length: > 0 } d ? $" stroke-dasharray=\"{d}\"" : "";

    /// <summary>What the legend adds so a series that draws no line, or lies on the floor, is not taken for missing.</summary>
    static string Qualifier(ChartSpec spec, ChartSeries s) =>
        s.Points.Count == 0 ? " (no steps)"
        : s.Points.All(p => double.IsNaN(p.Y) || p.Y <= spec.YMin) ? (s.Points.Count == 1 ? " (1 step, at floor)" : " (all at floor)")
        : s.Points.Count == 1 ? " (1 step)"
        : "";

    static string Marker(int series, double x, double y, double size, string color)
    {
        var inv = CultureInfo.InvariantCulture;
        string P(double v) => v.ToString("0.##", inv);
        string stroke = $"fill=\"white\" fill-opacity=\"0\" stroke=\"{color}\" stroke-width=\"1.6\"";
        double r = size, h = size * 0.9;
        return (series % MarkerKinds) switch
        {
            0 => $"<circle cx=\"{P(x)}\" cy=\"{P(y)}\" r=\"{P(r)}\" {stroke}/>\n",
            1 => $"<rect x=\"{P(x - h)}\" y=\"{P(y - h)}\" width=\"{P(2 * h)}\" height=\"{P(2 * h)}\" {stroke}/>\n",
            2 => $"<polygon points=\"{P(x)},{P(y - r)} {P(x + r)},{P(y + r * 0.8)} {P(x - r)},{P(y + r * 0.8)}\" {stroke}/>\n",
            3 => $"<polygon points=\"{P(x)},{P(y - r * 1.2)} {P(x + r)},{P(y)} {P(x)},{P(y + r * 1.2)} {P(x - r)},{P(y)}\" {stroke}/>\n",
            4 => $"<polygon points=\"{P(x)},{P(y + r)} {P(x + r)},{P(y - r * 0.8)} {P(x - r)},{P(y - r * 0.8)}\" {stroke}/>\n",
            5 => $"<path d=\"M{P(x - h)},{P(y - h)} L{P(x + h)},{P(y + h)} M{P(x - h)},{P(y + h)} L{P(x + h)},{P(y - h)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n",
            _ => $"<path d=\"M{P(x - r)},{P(y)} L{P(x + r)},{P(y)} M{P(x)},{P(y - r)} L{P(x)},{P(y + r)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n",
        };
    }

    static IEnumerable<(double Value, string Label)> YTicks(ChartSpec spec)
    {
        if (spec.LogY)
        {
            for (int e = (int)Math.Ceiling(Math.Log10(spec.YMin)); e <= (int)Math.Floor(Math.Log10(spec.YMax)); e++)
                yield return (Math.Pow(10, e), e == 0 ? "1" : $"1e{e}");
            yield break;
        }
        double step = NiceStep((spec.YMax - spec.YMin) / 5);
        for (double v = Math.Ceiling(spec.YMin / step) * step; v <= spec.YMax + step / 1e6; v += step)
            yield return (v, v.ToString("0.###", CultureInfo.InvariantCulture));
    }

    static IEnumerable<double> XTicks(double min, double max)
    {
        double step = Math.Max(1, NiceStep((max - min) / 10));
        for (double v = Math.Ceiling(min / step) * step; v <= max + 1e-9; v += step) yield return v;
    }

    static double NiceStep(double raw)
    {
        if (raw <= 0) return 1;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    static string Escape(string s) => SecurityElement.Escape(s) ?? "";
}
