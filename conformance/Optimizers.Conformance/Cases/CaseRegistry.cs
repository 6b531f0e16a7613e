using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Cases;

/// <summary>
/// The one declarative list of lockstep cases (issue 4): every option of every optimizer, several parameter groups,
/// STAC module trees, thresholds placed exactly on τ, non-finite gradients, shapes from 0-d to 1e6 elements. The xunit
/// theories and the benchmarks read this list; nothing else defines cases.
/// </summary>
public static class CaseRegistry
{
    /// <summary>
    /// Free-running drift is measured over this many steps: three times the first moment's horizon 1/(1 − β1) = 10, so the
    /// bias-correction transient (where bounds are amplified most) is passed and steady-state drift shows, while float32
    /// drift stays small enough to read.
    /// </summary>
    public const int DriftSteps = 30;

    /// <summary>The <see cref="Replay.ReplayReport.Source"/> of lockstep reports over this registry.</summary>
    public const string Source = "case registry";

    public static IReadOnlyList<CaseSpec> All { get; } = Build();

    public static CaseSpec Get(string id) => All.Single(c => c.Id == id);

    static IReadOnlyList<CaseSpec> Build()
    {
        var cases = new List<CaseSpec>
        {
            // ---- AdamW (torch 1.13, also STAC's cap) -------------------------------------------------------------
            new("adamw_f32_decades", "AdamW", "float32 with gradients over seven decades, exact zeros, decoupled decay",
                RecordedDType.Float32, [[3, 4], [4]], [AdamW([0, 1], lr: 1e-2, weightDecay: 1e-2)],
                new GradientRecipe(101), 12),
            new("adamw_f64_amsgrad_maximize_signflips", "AdamW", "AMSGrad's running maximum and maximize, with the gradient's sign flipping every 3 steps",
                RecordedDType.Float64, [[5, 3], [3]], [AdamW([0, 1], lr: 5e-3, betas: (0.8, 0.95), eps: 1e-6, weightDecay: 0, amsgrad: true, maximize: true)],
                new GradientRecipe(102, SignFlipEvery: 3), 12),
            new("adamw_nonfinite_gradients_propagate", "AdamW", "NaN and −∞ gradients reach the moments and the parameter (torch's AdamW has no policy)",
                RecordedDType.Float64, [[5]], [AdamW([0], lr: 1e-2)],
                new GradientRecipe(104, Injections: [(1, 0, 1, double.NaN), (2, 0, 3, double.NegativeInfinity)]), 4),
            new("adamw_0d_f64", "AdamW", "a 0-d parameter", RecordedDType.Float64, [[]], [AdamW([0], lr: 1e-2)], new GradientRecipe(103), 8),
            new("adamw_foreach_two_groups_f32", "AdamW", "foreach = true (the multi-tensor path upstream) and two groups with their own lr, betas, eps and decay",
                RecordedDType.Float32, [[7], [2, 2], [9]],
                [AdamW([0, 1], lr: 2e-2, weightDecay: 0.1, forEach: true), AdamW([2], lr: 1e-3, betas: (0.5, 0.9), eps: 1e-4, weightDecay: 0, forEach: true)],
                new GradientRecipe(105, MinDecade: -8, MaxDecade: 2), 10),
            new("adamw_empty_tensor_f32", "AdamW", "a zero-element tensor (shape [0]) beside an ordinary one: empty state, a step counter, and nothing else disturbed",
                RecordedDType.Float32, [[0], [4]], [AdamW([0, 1], lr: 1e-2)], new GradientRecipe(106), 6),

            // ---- AdamSRF ----------------------------------------------------------------------------------------
            new("adamsrf_groups_f64_state", "AdamSRF", "two groups with their own lr, betas and decay; state in float64",
                RecordedDType.Float64, [[4, 5], [5], [2, 5]],
                [HomeAdam([0, 1], lr: 3e-2, weightDecay: 0.2, stateDType: "float64"), HomeAdam([2], lr: 1e-3, betas: (0.5, 0.6), stateDType: "float64")],
                new GradientRecipe(201), 10),
            new("adamsrf_eps0_zero_gradients_f32", "AdamSRF", "ε = 0 with always-zero gradient elements: 0/0 is NaN and poisons the parameter, as upstream",
                RecordedDType.Float32, [[8]], [HomeAdam([0], lr: 1e-2, eps: 0.0)],
                new GradientRecipe(202, Fixed: Repeat(6, [[0.5, 0.0, -0.25, 0.0, 1e-3, 0.0, 2.0, -1.0]])), 6),
            new("adamsrf_float16_state_for_loop", "AdamSRF", "float16 state (range and resolution both tight) with foreach = false",
                RecordedDType.Float32, [[6], [3, 3]], [HomeAdam([0, 1], lr: 1e-2, weightDecay: 0.01, stateDType: "float16", forEach: false)],
                new GradientRecipe(203, MinDecade: -2, MaxDecade: 1), 8),
            new("adamsrf_0d_and_empty_tensor", "AdamSRF", "a 0-d parameter and a zero-element tensor (shape [0]) in one group with an ordinary tensor",
                RecordedDType.Float32, [[], [0], [5]], [HomeAdam([0, 1, 2], lr: 1e-2, weightDecay: 0.01)], new GradientRecipe(204), 8),

            // ---- HomeAdam ---------------------------------------------------------------------------------------
            new("homeadam_f64_params_default_f32_state", "HomeAdam", "float64 parameters with the default float32 state and running products",
                RecordedDType.Float64, [[3, 4], [4]], [HomeAdam([0, 1], lr: 1e-2, tau: 1e-4)],
                new GradientRecipe(301, MinDecade: -4, MaxDecade: 0), 15),
            new("homeadam_capturable_and_plain_groups", "HomeAdam", "one capturable group and one plain group, each with its own τ and one decision",
                RecordedDType.Float32, [[4, 4], [4], [3]],
                [HomeAdam([0, 1], lr: 1e-2, tau: 1e-6, capturable: true), HomeAdam([2], lr: 5e-3, tau: 1e-3)],
                new GradientRecipe(302, MinDecade: -5, MaxDecade: 0), 12),
            new("homeadam_min_vhat_exactly_on_tau_dyadic", "HomeAdam", "β = (0.5, 0.75) and dyadic gradients make v̂ = g² exact at step 1: the group minimum is exactly τ = 1, with bound zero, so ≥ against > is decided",
                RecordedDType.Float64, [[4], [2]], [HomeAdam([0, 1], lr: 0.125, betas: (0.5, 0.75), eps: 0.5, tau: 1.0, stateDType: "float64")],
                new GradientRecipe(303, Fixed: [[[1.0, -2.0, 4.0, -1.0], [2.0, -4.0]], [[0.5, 1.0, -1.0, 2.0], [1.0, 1.0]]]), 2),
            new("homeadam_min_vhat_within_rounding_of_tau", "HomeAdam", "τ = 0.09 = 0.3² in float64 while the group minimum v̂ = (1 − β2)·0.09/(1 − β2) is computed in float32: the decision sits inside the ambiguity zone, and either branch must be accepted",
                RecordedDType.Float32, [[4], [2]], [HomeAdam([0, 1], lr: 1e-2, tau: 0.09)],
                new GradientRecipe(306, MinDecade: -1, MaxDecade: 0, Fixed: [[[0.3, -0.5, 0.7, 1.0], [0.4, -0.3]]]), 4),
            new("homeadam_bfloat16_state", "HomeAdam", "bfloat16 state and running products for the group decision",
                RecordedDType.Float32, [[5, 2]], [HomeAdam([0], lr: 1e-2, weightDecay: 0.01, tau: 1e-4, stateDType: "bfloat16")],
                new GradientRecipe(307, MinDecade: -3, MaxDecade: 0), 8),
            new("homeadam_nonfinite_gradients_propagate", "HomeAdam", "NaN and +∞ gradients: upstream has no policy, so they reach m, v and θ; a NaN minimum does not veto the group",
                RecordedDType.Float32, [[4], [3]], [HomeAdam([0, 1], lr: 1e-2, tau: 1e-4)],
                new GradientRecipe(305, MinDecade: -3, MaxDecade: 0, Injections: [(1, 0, 2, double.NaN), (2, 1, 0, double.PositiveInfinity)]), 4),
            new("homeadam_no_gradient_steps", "HomeAdam", "parameters without a gradient on some steps: no state, no decay, no part in the group minimum",
                RecordedDType.Float32, [[3, 3], [3]], [HomeAdam([0, 1], lr: 1e-2, weightDecay: 0.1, tau: 1e-5)],
                new GradientRecipe(304, NoGradient: [(0, 1), (1, 1), (3, 0), (4, 0), (4, 1)]), 8),
            // No zero-element tensor here: upstream's amin raises on one, the reference raises the same error before
            // anything changes, and production deviates (it counts as +∞); ZeroElementHomeAdamTests pins both.
            new("homeadam_0d_in_the_group_minimum", "HomeAdam", "a 0-d parameter whose one v̂ takes part in the group minimum beside an ordinary tensor",
                RecordedDType.Float32, [[], [3]], [HomeAdam([0, 1], lr: 1e-2, tau: 1e-4)],
                new GradientRecipe(308, MinDecade: -4, MaxDecade: 0), 10),

            // ---- HomeAdamEW -------------------------------------------------------------------------------------
            new("homeadamew_vhat_exactly_on_tau_dyadic", "HomeAdamEW", "elements whose v̂ is exactly τ = 1 (dyadic β and gradients): ≥ sends them adaptive, > would not",
                RecordedDType.Float32, [[6]], [HomeAdam([0], lr: 0.125, betas: (0.5, 0.75), eps: 0.5, tau: 1.0, updateMode: "denom")],
                new GradientRecipe(401, Fixed: [[[1.0, -1.0, 2.0, 0.5, 0.0, -1.0]]]), 1),
            new("homeadamew_where_update_within_rounding_of_tau", "HomeAdamEW", "where_update with elements whose float32 v̂ is within rounding of τ = 0.09 = 0.3²: per-element ambiguity zones",
                RecordedDType.Float32, [[8]], [HomeAdam([0], lr: 1e-2, tau: 0.09, updateMode: "where_update")],
                new GradientRecipe(406, MinDecade: -2, MaxDecade: 0, Fixed: [[[0.3, -0.3, 0.3, 0.5, -0.3, 0.1, 0.3, -0.3]]]), 4),
            new("homeadamew_where_update_decay_state_f64", "HomeAdamEW", "where_update mode with decoupled decay, state in float64, magnitudes over decades around τ",
                RecordedDType.Float64, [[4, 5], [5]], [HomeAdam([0, 1], lr: 1e-2, betas: (0.7, 0.95), eps: 1e-5, weightDecay: 0.05, tau: 1e-4, stateDType: "float64", updateMode: "where_update")],
                new GradientRecipe(402, MinDecade: -5, MaxDecade: 0), 12),
            new("homeadamew_bfloat16_state", "HomeAdamEW", "bfloat16 state: every state operation priced at bfloat16's unit roundoff",
                RecordedDType.Float32, [[16]], [HomeAdam([0], lr: 1e-2, tau: 1e-3, stateDType: "bfloat16", updateMode: "denom")],
                new GradientRecipe(403, MinDecade: -3, MaxDecade: 0), 8),
            new("homeadamew_float16_state", "HomeAdamEW", "float16 state", RecordedDType.Float32, [[16]],
                [HomeAdam([0], lr: 1e-2, tau: 1e-3, stateDType: "float16", updateMode: "denom")],
                new GradientRecipe(404, MinDecade: -2, MaxDecade: 0), 8),
            new("homeadamew_one_million_elements", "HomeAdamEW", "1e6 elements: kernels at full width with a ragged tail elsewhere",
                RecordedDType.Float32, [[1000, 1000]], [HomeAdam([0], lr: 1e-3, tau: 1e-6, updateMode: "denom")],
                new GradientRecipe(405, MinDecade: -6, MaxDecade: 0), 2),
            new("homeadamew_0d_and_empty_tensor", "HomeAdamEW", "a 0-d parameter and a zero-element tensor (shape [0]) in where_update mode, magnitudes around τ",
                RecordedDType.Float32, [[], [0], [5]], [HomeAdam([0, 1, 2], lr: 1e-2, tau: 1e-3, updateMode: "where_update")],
                new GradientRecipe(407, MinDecade: -3, MaxDecade: 0), 8),
        };

        // ---- STAC: Sequential(Linear(4,3), Linear(3,2)) and its partitions ------------------------------------------
        cases.Add(Stac("stac_two_layers_default", "trunk with momentum 0.9 at 0.75·lr, AdamW cap", RecordedDType.Float64, lastN: 1,
            trunkMomentum: 0.9, weightDecay: 0.01, new GradientRecipe(501)));
        cases.Add(Stac("stac_signsgd_exact_zero_gradients", "μ = 0: the direction is sign(g), and sign(0) = 0 leaves zero-gradient elements in place",
            RecordedDType.Float32, lastN: 1, trunkMomentum: 0.0, weightDecay: 0.0, new GradientRecipe(502, ZeroFraction: 0.4)));
        cases.Add(Stac("stac_last0_all_trunk_lr_unscaled", "last_n_layers 0: everything in the trunk, whose lr stays lr (no cap, no 0.75)",
            RecordedDType.Float64, lastN: 0, trunkMomentum: 0.9, weightDecay: 0.0, new GradientRecipe(503)));
        cases.Add(Stac("stac_nonfinite_gradient_skips_the_step", "NaN in the cap at step 2 and +∞ in the trunk at step 4: each whole step is skipped",
            RecordedDType.Float32, lastN: 1, trunkMomentum: 0.9, weightDecay: 0.01,
            new GradientRecipe(504, Injections: [(2, 3, 1, double.NaN), (4, 0, 0, double.PositiveInfinity)])));
        cases.Add(Stac("stac_trunk_state_f32_amsgrad_maximize", "float32 trunk buffer for float64 parameters; AMSGrad and maximize in the cap",
            RecordedDType.Float64, lastN: 1, trunkMomentum: 0.95, weightDecay: 0.02, new GradientRecipe(505),
            trunkStateDType: "float32", amsgrad: true, maximize: true));
        cases.Add(Stac("stac_explicit_lrs_decays_betas_eps", "every resolved option given explicitly: trunk_lr, cap_lr, betas, eps, separate trunk and cap decay, and error_if_nonfinite (finite gradients, so it must not change a step)",
            RecordedDType.Float32, lastN: 1, trunkMomentum: 0.8, weightDecay: 0.05, new GradientRecipe(508),
            trunkLr: 3e-3, capLr: 2e-2, betas: (0.8, 0.95), eps: 1e-6, trunkWeightDecay: 0.2, capWeightDecay: 0.01, errorIfNonfinite: true));
        cases.Add(Stac("stac_trunk_state_bfloat16", "bfloat16 trunk momentum buffer for float32 parameters",
            RecordedDType.Float32, lastN: 1, trunkMomentum: 0.9, weightDecay: 0.01, new GradientRecipe(509), trunkStateDType: "bfloat16"));
        cases.Add(NestedFrozenTied());
        cases.Add(ScalarAndEmptyLayers());
        cases.Add(Stac("stac_oversized_last_n_all_cap", "last_n_layers beyond the layer count: everything in the AdamW cap", RecordedDType.Float32,
            lastN: 99, trunkMomentum: 0.9, weightDecay: 0.1, new GradientRecipe(507)));
        return cases;
    }

    /// <summary>
    /// A module tree with every partition rule at once: a root-level parameter (the first layer, "&lt;root&gt;"), a
    /// frozen module (skipped), a container without parameters of its own (not a layer), a nested Linear, and a head
    /// whose weight is tied to the embedding (owned by the embedding, its first module), so the head counts only its
    /// bias. last_n_layers = 2 puts block.inner.0 and head in the cap.
    /// </summary>
    static CaseSpec NestedFrozenTied()
    {
        const double lr = 1e-2;
        var model = new List<RecordedModule>
        {
            new("", "Net", [new("root_scale", "root_scale", [2], true, null)]),
            new("embed", "Embedding", [new("weight", "embed.weight", [5, 3], true, null)]),
            new("frozen", "Linear", [new("weight", "frozen.weight", [3, 3], false, null), new("bias", "frozen.bias", [3], false, null)]),
            new("block", "Block", [new("gate", "block.gate", [3], true, null)]),
            new("block.inner", "Sequential", []),
            new("block.inner.0", "Linear", [new("weight", "block.inner.0.weight", [3, 3], true, null), new("bias", "block.inner.0.bias", [3], true, null)]),
            new("head", "Linear", [new("weight", "head.weight", [5, 3], true, "embed.weight"), new("bias", "head.bias", [5], true, null)]),
        };
        string[] trunkLayers = ["<root>", "embed", "block"], capLayers = ["block.inner.0", "head"];
        string[] trunkNames = ["root_scale", "embed.weight", "block.gate"], capNames = ["block.inner.0.weight", "block.inner.0.bias", "head.bias"];
        var common = new Dictionary<string, object?>
        {
            ["trunk_momentum"] = 0.9, ["trunk_state_dtype"] = null, ["betas"] = Pair((0.9, 0.999)), ["eps"] = 1e-8, ["amsgrad"] = false,
            ["maximize"] = false, ["error_if_nonfinite"] = false, ["trunk_lr"] = 0.75 * lr, ["cap_lr"] = lr,
            ["trunk_weight_decay"] = 0.01, ["cap_weight_decay"] = 0.01,
        };
        var groups = new List<GroupSpec>
        {
            new([0, 1, 4], new Dictionary<string, object?>(common)
                { ["stac_role"] = "trunk", ["layer_names"] = trunkLayers, ["param_names"] = trunkNames, ["lr"] = 0.75 * lr, ["weight_decay"] = 0.01 }),
            new([5, 6, 7], new Dictionary<string, object?>(common)
                { ["stac_role"] = "cap", ["layer_names"] = capLayers, ["param_names"] = capNames, ["lr"] = lr, ["weight_decay"] = 0.01 }),
        };
        const int steps = 10;
        var frozenNeverGetGradients = Enumerable.Range(0, steps).SelectMany(t => new[] { (t, 2), (t, 3) }).ToList();
        return new CaseSpec("stac_nested_frozen_tied_root", "STAC",
            "root-level parameter, frozen module, parameterless container, nested layer and a tied head weight, last_n_layers 2",
            RecordedDType.Float64, [[2], [5, 3], [3, 3], [3], [3], [3, 3], [3], [5]], groups,
            new GradientRecipe(506, NoGradient: frozenNeverGetGradients.Append((3, 7)).ToList()), steps,
            new Dictionary<string, object?> { ["lr"] = lr, ["last_n_layers"] = 2, ["weight_decay"] = 0.01 }, model,
            new RecordedPartition(trunkLayers, capLayers, trunkNames, capNames));
    }

    /// <summary>
    /// Layers holding a 0-d gain and a zero-element offset (shape [0]) on both sides of the partition: "0" in the trunk,
    /// "1" (a Linear) and "2" in the cap with last_n_layers = 2. A zero-element parameter still makes its module a
    /// layer, as a torch parameter with no elements still counts.
    /// </summary>
    static CaseSpec ScalarAndEmptyLayers()
    {
        const double lr = 1e-2;
        var model = new List<RecordedModule>
        {
            new("", "Sequential", []),
            new("0", "Scale", [new("gain", "0.gain", [], true, null), new("offset", "0.offset", [0], true, null)]),
            new("1", "Linear", [new("weight", "1.weight", [2, 3], true, null), new("bias", "1.bias", [2], true, null)]),
            new("2", "Scale", [new("gain", "2.gain", [], true, null), new("offset", "2.offset", [0], true, null)]),
        };
        string[] trunkLayers = ["0"], capLayers = ["1", "2"];
        string[] trunkNames = ["0.gain", "0.offset"], capNames = ["1.weight", "1.bias", "2.gain", "2.offset"];
        var common = new Dictionary<string, object?>
        {
            ["trunk_momentum"] = 0.9, ["trunk_state_dtype"] = null, ["betas"] = Pair((0.9, 0.999)), ["eps"] = 1e-8, ["amsgrad"] = false,
            ["maximize"] = false, ["error_if_nonfinite"] = false, ["trunk_lr"] = 0.75 * lr, ["cap_lr"] = lr,
            ["trunk_weight_decay"] = 0.01, ["cap_weight_decay"] = 0.01,
        };
        var groups = new List<GroupSpec>
        {
            new([0, 1], new Dictionary<string, object?>(common)
                { ["stac_role"] = "trunk", ["layer_names"] = trunkLayers, ["param_names"] = trunkNames, ["lr"] = 0.75 * lr, ["weight_decay"] = 0.01 }),
            new([2, 3, 4, 5], new Dictionary<string, object?>(common)
                { ["stac_role"] = "cap", ["layer_names"] = capLayers, ["param_names"] = capNames, ["lr"] = lr, ["weight_decay"] = 0.01 }),
        };
        return new CaseSpec("stac_0d_and_empty_tensors_both_sides", "STAC",
            "0-d and zero-element (shape [0]) parameters in the sign-momentum trunk and in the AdamW cap",
            RecordedDType.Float32, [[], [0], [2, 3], [2], [], [0]], groups, new GradientRecipe(510), 10,
            new Dictionary<string, object?> { ["lr"] = lr, ["last_n_layers"] = 2, ["trunk_momentum"] = 0.9, ["weight_decay"] = 0.01 }, model,
            new RecordedPartition(trunkLayers, capLayers, trunkNames, capNames));
    }

    static double[][][] Repeat(int steps, double[][] gradients) => Enumerable.Repeat(gradients, steps).ToArray();

    static GroupSpec AdamW(int[] p, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-8, double weightDecay = 1e-2,
        bool amsgrad = false, bool maximize = false, bool forEach = false) =>
        new(p, new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = Pair(betas ?? (0.9, 0.999)), ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["amsgrad"] = amsgrad, ["foreach"] = forEach, ["maximize"] = maximize, ["capturable"] = false,
        });

    static GroupSpec HomeAdam(int[] p, double lr = 1e-3, (double, double)? betas = null, double eps = 1e-7, double weightDecay = 0.0,
        double? tau = null, string? stateDType = "float32", bool capturable = false, string? updateMode = null, bool forEach = true)
    {
        var options = new Dictionary<string, object?>
        {
            ["lr"] = lr, ["betas"] = Pair(betas ?? (0.9, 0.99)), ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["state_dtype"] = stateDType, ["foreach"] = forEach,
        };
        if (tau is not null) options["tau"] = tau;
        if (updateMode is not null) options["update_mode"] = updateMode;
        else if (tau is not null) options["capturable"] = capturable;
        return new GroupSpec(p, options);
    }

    static double[] Pair((double A, double B) p) => [p.A, p.B];

    /// <summary>Sequential(Linear(4, 3), Linear(3, 2)): modules "0" and "1", each owning weight and bias.</summary>
    static CaseSpec Stac(string id, string why, RecordedDType dtype, int lastN, double trunkMomentum, double weightDecay, GradientRecipe gradients,
        string? trunkStateDType = null, bool amsgrad = false, bool maximize = false, double? trunkLr = null, double? capLr = null,
        (double, double)? betas = null, double eps = 1e-8, double? trunkWeightDecay = null, double? capWeightDecay = null, bool errorIfNonfinite = false)
    {
        const double lr = 1e-2;
        string[] layers = ["0", "1"];
        var model = new List<RecordedModule>
        {
            new("", "Sequential", []),
            new("0", "Linear", [new("weight", "0.weight", [3, 4], true, null), new("bias", "0.bias", [3], true, null)]),
            new("1", "Linear", [new("weight", "1.weight", [2, 3], true, null), new("bias", "1.bias", [2], true, null)]),
        };
        int trunkLayers = Math.Max(layers.Length - lastN, 0);
        var trunk = layers[..trunkLayers];
        var cap = layers[trunkLayers..];
        int[] Indices(string[] names) => names.SelectMany(n => n == "0" ? new[] { 0, 1 } : [2, 3]).ToArray();
        string[] ParamNames(string[] names) => names.SelectMany(n => new[] { $"{n}.weight", $"{n}.bias" }).ToArray();
        bool hybrid = trunk.Length > 0 && cap.Length > 0;
        // Upstream's resolution (paper-notes/stac.md): an explicit value wins; otherwise the trunk runs at 0.75·lr only
        // when a cap exists, and each side's decay falls back to weight_decay.
        double resolvedTrunkLr = trunkLr ?? (hybrid ? 0.75 * lr : lr), resolvedCapLr = capLr ?? lr;
        double resolvedTrunkDecay = trunkWeightDecay ?? weightDecay, resolvedCapDecay = capWeightDecay ?? weightDecay;
        var common = new Dictionary<string, object?>
        {
            ["trunk_momentum"] = trunkMomentum, ["trunk_state_dtype"] = trunkStateDType, ["betas"] = Pair(betas ?? (0.9, 0.999)), ["eps"] = eps,
            ["amsgrad"] = amsgrad, ["maximize"] = maximize, ["error_if_nonfinite"] = errorIfNonfinite,
            ["trunk_lr"] = resolvedTrunkLr, ["cap_lr"] = resolvedCapLr, ["trunk_weight_decay"] = resolvedTrunkDecay, ["cap_weight_decay"] = resolvedCapDecay,
        };
        var groups = new List<GroupSpec>();
        if (trunk.Length > 0)
            groups.Add(new GroupSpec(Indices(trunk), new Dictionary<string, object?>(common)
            {
                ["stac_role"] = "trunk", ["layer_names"] = trunk, ["param_names"] = ParamNames(trunk), ["lr"] = resolvedTrunkLr, ["weight_decay"] = resolvedTrunkDecay,
            }));
        if (cap.Length > 0)
            groups.Add(new GroupSpec(Indices(cap), new Dictionary<string, object?>(common)
            {
                ["stac_role"] = "cap", ["layer_names"] = cap, ["param_names"] = ParamNames(cap), ["lr"] = resolvedCapLr, ["weight_decay"] = resolvedCapDecay,
            }));
        var hyper = new Dictionary<string, object?> { ["lr"] = lr, ["last_n_layers"] = lastN, ["trunk_momentum"] = trunkMomentum, ["weight_decay"] = weightDecay };
        if (trunkStateDType is not null) hyper["trunk_state_dtype"] = trunkStateDType;
        if (amsgrad) hyper["amsgrad"] = true;
        if (maximize) hyper["maximize"] = true;
        if (trunkLr is { } tl) hyper["trunk_lr"] = tl;
        if (capLr is { } cl) hyper["cap_lr"] = cl;
        if (betas is { } b) hyper["betas"] = Pair(b);
        if (eps != 1e-8) hyper["eps"] = eps;
        if (trunkWeightDecay is { } twd) hyper["trunk_weight_decay"] = twd;
        if (capWeightDecay is { } cwd) hyper["cap_weight_decay"] = cwd;
        if (errorIfNonfinite) hyper["error_if_nonfinite"] = true;
        return new CaseSpec(id, "STAC", why, dtype, [[3, 4], [3], [2, 3], [2]], groups, gradients, 10, hyper, model,
            new RecordedPartition(trunk, cap, ParamNames(trunk), ParamNames(cap)));
    }
}
