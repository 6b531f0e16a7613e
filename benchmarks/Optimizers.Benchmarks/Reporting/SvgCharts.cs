using System.Globalization;
using System.Security;
using System.Text;

namespace Optimizers.Benchmarks.Reporting;

/// <summary>A named line of a chart; points with a non-finite value (or ≤ 0 on a log axis) break the line.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, int ColorIndex, bool Dashed = false);

/// <summary>A horizontal bar; <see cref="ColorIndex"/> groups bars visually (one colour per backend).</summary>
public sealed record ChartBar(string Label, double Value, int ColorIndex);

/// <summary>A vertical reference line across a bar chart, e.g. the measured triad bandwidth.</summary>
public sealed record ReferenceLine(string Label, double Value);

/// <summary>
/// Hand-written SVG charts (no plotting library is available offline): axes with ticks and grid, axis labels,
/// a title and a legend. Text uses DejaVu Sans, which rsvg-convert finds on Debian.
/// </summary>
public static class SvgCharts
{
    // Tableau 10: distinguishable, and readable in print.
    static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    public static string Color(int index) => Palette[((index % Palette.Length) + Palette.Length) % Palette.Length];

    static string F(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);
    static string Esc(string s) => SecurityElement.Escape(s) ?? "";

    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series,
        bool logX = false, bool logY = false, int width = 900, int height = 520)
    {
        const int left = 80, top = 50, bottom = 60;
        int legendWidth = Math.Min(300, 40 + 7 * series.Select(s => s.Name.Length).DefaultIfEmpty(10).Max());
        int right = legendWidth + 20;
        double plotW = width - left - right, plotH = height - top - bottom;

        bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logX || x > 0) && (!logY || y > 0);
        var all = series.SelectMany(s => s.Points).Where(p => Usable(p.X, p.Y)).ToList();
        if (all.Count == 0) all = [(1, 1), (10, 10)];
        var (xMin, xMax) = Range(all.Select(p => p.X), logX);
        var (yMin, yMax) = Range(all.Select(p => p.Y), logY);
        double Tx(double v) => logX ? Math.Log10(v) : v;
        double Ty(double v) => logY ? Math.Log10(v) : v;
        double Px(double v) => left + (Tx(v) - Tx(xMin)) / (Tx(xMax) - Tx(xMin)) * plotW;
        double Py(double v) => top + plotH - (Ty(v) - Ty(yMin)) / (Ty(yMax) - Ty(yMin)) * plotH;

        var svg = Begin(width, height, title);
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{top}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"#333\"/>\n");
        foreach (double t in Ticks(xMin, xMax, logX))
        {
            double x = Px(t);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x)}\" y1=\"{top}\" x2=\"{F(x)}\" y2=\"{F(top + plotH)}\" stroke=\"#e3e3e3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\" font-size=\"12\">{Esc(TickLabel(t, logX))}</text>\n");
        }
        foreach (double t in Ticks(yMin, yMax, logY))
        {
            double y = Py(t);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{F(y)}\" x2=\"{F(left + plotW)}\" y2=\"{F(y)}\" stroke=\"#e3e3e3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\" font-size=\"12\">{Esc(TickLabel(t, logY))}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + plotW / 2)}\" y=\"{height - 18}\" text-anchor=\"middle\" font-size=\"14\">{Esc(xLabel)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(20,{F(top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">{Esc(yLabel)}</text>\n");

        foreach (var s in series)
        {
            var segment = new List<string>();
            void Flush()
            {
                if (segment.Count > 1)
                    svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{Color(s.ColorIndex)}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6,4\"" : "")} points=\"{string.Join(' ', segment)}\"/>\n");
                else if (segment.Count == 1)
                {
                    var xy = segment[0].Split(',');
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{xy[0]}\" cy=\"{xy[1]}\" r=\"3\" fill=\"{Color(s.ColorIndex)}\"/>\n");
                }
                segment.Clear();
            }
            foreach (var (x, y) in s.Points)
            {
                if (Usable(x, y)) segment.Add($"{F(Px(Math.Clamp(x, xMin, xMax)))},{F(Py(Math.Clamp(y, yMin, yMax)))}");
                else Flush();
            }
            Flush();
            // Sparse series (a handful of sizes) get a marker on each measured point.
            if (s.Points.Count <= 12)
                foreach (var (x, y) in s.Points.Where(p => Usable(p.X, p.Y)))
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(Px(x))}\" cy=\"{F(Py(y))}\" r=\"3\" fill=\"{Color(s.ColorIndex)}\"/>\n");
        }
        Legend(svg, series.Select(s => (s.Name, s.ColorIndex, s.Dashed)).ToList(), width - right + 15, top);
        return End(svg);
    }

    public static string Bars(string title, string valueLabel, IReadOnlyList<ChartBar> bars, IReadOnlyList<ReferenceLine> references,
        IReadOnlyList<(string Name, int ColorIndex)> legend, int width = 900)
    {
        const int barHeight = 18, gap = 6, bottom = 60, right = 40;
        // One text line per reference line above the plot, so close values do not print over each other.
        int top = 50 + 14 * references.Count;
        int left = 20 + 7 * bars.Select(b => b.Label.Length).DefaultIfEmpty(10).Max();
        int height = top + bottom + bars.Count * (barHeight + gap) + 20 * legend.Count;
        double plotW = width - left - right, plotH = bars.Count * (barHeight + gap);
        double max = Math.Max(bars.Select(b => double.IsFinite(b.Value) ? b.Value : 0).DefaultIfEmpty(1).Max(),
            references.Select(r => r.Value).DefaultIfEmpty(0).Max()) * 1.08;
        if (max <= 0) max = 1;
        double Px(double v) => left + v / max * plotW;

        var svg = Begin(width, height, title);
        foreach (double t in Ticks(0, max, log: false))
        {
            double x = Px(t);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x)}\" y1=\"{top}\" x2=\"{F(x)}\" y2=\"{F(top + plotH)}\" stroke=\"#e3e3e3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\" font-size=\"12\">{Esc(TickLabel(t, false))}</text>\n");
        }
        for (int i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            double y = top + i * (barHeight + gap) + gap / 2.0;
            double value = double.IsFinite(bar.Value) ? bar.Value : 0;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{F(y + barHeight - 5)}\" text-anchor=\"end\" font-size=\"12\">{Esc(bar.Label)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{F(y)}\" width=\"{F(Px(value) - left)}\" height=\"{barHeight}\" fill=\"{Color(bar.ColorIndex)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Px(value) + 4)}\" y=\"{F(y + barHeight - 5)}\" font-size=\"11\">{Esc(value.ToString("0.0", CultureInfo.InvariantCulture))}</text>\n");
        }
        for (int i = 0; i < references.Count; i++)
        {
            var r = references[i];
            double x = Px(r.Value), labelY = top - 8 - 14 * (references.Count - 1 - i);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x)}\" y1=\"{F(labelY - 10)}\" x2=\"{F(x)}\" y2=\"{F(top + plotH)}\" stroke=\"#222\" stroke-dasharray=\"5,4\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x - 4)}\" y=\"{F(labelY)}\" text-anchor=\"end\" font-size=\"11\">{Esc(r.Label)}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{F(top + plotH)}\" stroke=\"#333\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{F(top + plotH)}\" x2=\"{F(left + plotW)}\" y2=\"{F(top + plotH)}\" stroke=\"#333\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + plotW / 2)}\" y=\"{F(top + plotH + 42)}\" text-anchor=\"middle\" font-size=\"14\">{Esc(valueLabel)}</text>\n");
        Legend(svg, legend.Select(l => (l.Name, l.ColorIndex, false)).ToList(), left, (int)(top + plotH + 58), horizontalBoxes: true);
        return End(svg);
    }

    static StringBuilder Begin(int width, int height, string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, sans-serif\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">{Esc(title)}</text>\n");
        return svg;
    }

    static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    static void Legend(StringBuilder svg, IReadOnlyList<(string Name, int ColorIndex, bool Dashed)> entries, int x, int y, bool horizontalBoxes = false)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, color, dashed) = entries[i];
            double ly = y + i * 20;
            if (horizontalBoxes)
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{F(ly - 10)}\" width=\"14\" height=\"12\" fill=\"{Color(color)}\"/>");
            else
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{F(ly - 4)}\" x2=\"{x + 24}\" y2=\"{F(ly - 4)}\" stroke=\"{Color(color)}\" stroke-width=\"2.5\"{(dashed ? " stroke-dasharray=\"6,4\"" : "")}/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 30}\" y=\"{F(ly)}\" font-size=\"12\">{Esc(name)}</text>\n");
        }
    }

    static (double Min, double Max) Range(IEnumerable<double> values, bool log)
    {
        var list = values.ToList();
        double min = list.Min(), max = list.Max();
        if (log)
        {
            double lo = Math.Pow(10, Math.Floor(Math.Log10(min))), hi = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
            return hi <= lo ? (lo, lo * 10) : (lo, hi);
        }
        if (max <= min) { max = min + 1; }
        double step = NiceStep((max - min) / 6);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step);
    }

    static double NiceStep(double raw)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double fraction = raw / magnitude;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
    }

    static IEnumerable<double> Ticks(double min, double max, bool log)
    {
        if (log)
        {
            int decades = (int)Math.Round(Math.Log10(max / min));
            int stride = Math.Max(1, decades / 8);
            for (int k = 0; k <= decades; k += stride)
            {
                double decade = min * Math.Pow(10, k);
                yield return decade;
                // Few decades leave a plot with two labels; 2× and 5× give the eye something to read against.
                if (decades <= 2 && k < decades) { yield return 2 * decade; yield return 5 * decade; }
            }
            yield break;
        }
        double step = NiceStep((max - min) / 6);
        for (double t = Math.Ceiling(min / step) * step; t <= max + step * 1e-9; t += step) yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    static string TickLabel(double t, bool log)
    {
        if (log) return t >= 1e-3 && t < 1e5 ? t.ToString("0.###", CultureInfo.InvariantCulture) : t.ToString("0e0", CultureInfo.InvariantCulture);
        return Math.Abs(t) >= 1e5 || (Math.Abs(t) < 1e-3 && t != 0)
            ? t.ToString("0.#e0", CultureInfo.InvariantCulture)
            : t.ToString("0.###", CultureInfo.InvariantCulture);
    }
}
