using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Convergence;

/// <summary>Row-major samples: <see cref="Inputs"/> is Count × InputWidth, <see cref="Targets"/> Count × OutputWidth.</summary>
public sealed record Dataset(float[] Inputs, float[] Targets, int Count, int InputWidth, int OutputWidth);

/// <summary>
/// A fully connected network with ReLU between layers and a linear output, trained on mean squared error,
/// with its forward and backward passes written out by hand in float32. Weights live in the optimizer's
/// tensors (one weight and one bias tensor per layer, torch's order), so any <see cref="ITrainable"/> can train it.
/// </summary>
public sealed class Mlp
{
    readonly int[] _widths;
    readonly string[] _layerNames;
    readonly Dictionary<int, float[][]> _workspaces = [];

    /// <param name="widths">Input width, hidden widths, output width.</param>
    /// <param name="layerNames">One name per linear layer: STAC partitions by these.</param>
    public Mlp(int[] widths, string[] layerNames)
    {
        if (widths.Length < 2) throw new ArgumentException("An MLP needs an input and an output width.", nameof(widths));
        if (layerNames.Length != widths.Length - 1) throw new ArgumentException($"Expected {widths.Length - 1} layer names.", nameof(layerNames));
        _widths = widths;
        _layerNames = layerNames;
        Tensors = Enumerable.Range(0, Layers).SelectMany(l => new[]
        {
            new TensorSpec($"{layerNames[l]}.weight", widths[l + 1] * widths[l], layerNames[l]),
            new TensorSpec($"{layerNames[l]}.bias", widths[l + 1], layerNames[l]),
        }).ToList();
    }

    public int Layers => _widths.Length - 1;
    public IReadOnlyList<TensorSpec> Tensors { get; }

    /// <summary>nn.Linear's default: weight and bias uniform on ±1/√fan_in.</summary>
    public void Initialize(ITrainable model, Xoshiro256 rng)
    {
        for (int l = 0; l < Layers; l++)
        {
            double bound = 1.0 / Math.Sqrt(_widths[l]);
            for (int t = 2 * l; t <= 2 * l + 1; t++)
            {
                var tensor = model.Value(t);
                for (int i = 0; i < tensor.Length; i++) tensor[i] = (float)rng.NextUniform(-bound, bound);
            }
        }
    }

    /// <summary>Mean squared error over every output of every sample, without gradients.</summary>
    public double Loss(ITrainable model, Dataset data) => Forward(model, data, Workspace(data.Count));

    /// <summary>Mean squared error; leaves its gradient with respect to every tensor in <see cref="ITrainable.Grad"/>.</summary>
    public double LossAndGradients(ITrainable model, Dataset data)
    {
        var activations = Workspace(data.Count);
        double loss = Forward(model, data, activations);
        int n = data.Count, outWidth = _widths[^1];
        // d(mean (y − t)²)/dy = 2 (y − t) / (N · out)
        var upstream = new float[n * outWidth];
        var output = activations[Layers];
        float scale = 2f / (n * outWidth);
        for (int k = 0; k < upstream.Length; k++) upstream[k] = scale * (output[k] - data.Targets[k]);

        for (int l = Layers - 1; l >= 0; l--)
        {
            int inW = _widths[l], outW = _widths[l + 1];
            var input = l == 0 ? data.Inputs : activations[l];
            var w = model.Value(2 * l);
            var dW = model.Grad(2 * l);
            var dB = model.Grad(2 * l + 1);
            dW.Clear();
            dB.Clear();
            for (int s = 0; s < n; s++)
            {
                for (int o = 0; o < outW; o++)
                {
                    float d = upstream[s * outW + o];
                    if (d == 0f) continue;
                    dB[o] += d;
                    var row = dW.Slice(o * inW, inW);
                    for (int i = 0; i < inW; i++) row[i] += d * input[s * inW + i];
                }
            }
            if (l == 0) break;
            var next = new float[n * inW];
            for (int s = 0; s < n; s++)
            {
                for (int o = 0; o < outW; o++)
                {
                    float d = upstream[s * outW + o];
                    if (d == 0f) continue;
                    var row = w.Slice(o * inW, inW);
                    for (int i = 0; i < inW; i++) next[s * inW + i] += d * row[i];
                }
                // ReLU's derivative: the hidden activation is positive exactly where its pre-activation was.
                for (int i = 0; i < inW; i++) if (input[s * inW + i] <= 0f) next[s * inW + i] = 0f;
            }
            upstream = next;
        }
        return loss;
    }

    double Forward(ITrainable model, Dataset data, float[][] activations)
    {
        if (data.InputWidth != _widths[0] || data.OutputWidth != _widths[^1])
            throw new ArgumentException($"Dataset is {data.InputWidth}→{data.OutputWidth}; the network is {_widths[0]}→{_widths[^1]}.", nameof(data));
        int n = data.Count;
        for (int l = 0; l < Layers; l++)
        {
            int inW = _widths[l], outW = _widths[l + 1];
            var input = l == 0 ? data.Inputs : activations[l];
            var output = activations[l + 1];
            var w = model.Value(2 * l);
            var b = model.Value(2 * l + 1);
            bool hidden = l < Layers - 1;
            for (int s = 0; s < n; s++)
            {
                var x = input.AsSpan(s * inW, inW);
                for (int o = 0; o < outW; o++)
                {
                    var row = w.Slice(o * inW, inW);
                    float z = b[o];
                    for (int i = 0; i < inW; i++) z += row[i] * x[i];
                    output[s * outW + o] = hidden && !(z > 0f) ? 0f : z;
                }
            }
        }
        var prediction = activations[Layers];
        double sum = 0;
        for (int k = 0; k < prediction.Length; k++)
        {
            double e = prediction[k] - data.Targets[k];
            sum += e * e;
        }
        return sum / prediction.Length;
    }

    // activations[l] holds layer l's input for l ≥ 1 (index 0 is unused: the dataset is the input).
    float[][] Workspace(int count)
    {
        if (!_workspaces.TryGetValue(count, out var workspace))
        {
            workspace = _widths.Select((width, l) => l == 0 ? [] : new float[count * width]).ToArray();
            _workspaces[count] = workspace;
        }
        return workspace;
    }
}
