/// The assertions of upstream's own test suites (upstream-spec A8 for homeadam 0.1.3, B9 for stac-optimizer 0.1.2),
/// restated against the reference. Tests that need torch modules use small equivalents with the same structure.
module Optimizers.Reference.Tests.UpstreamSuiteTests

open System
open Xunit
open Optimizers.Reference
open Optimizers.Reference.Tests.Support

let private data = [ vec [ 1.0; 2.0; 3.0 ] ]
let private grads = [ [ dense [ 0.5; -0.3; 0.8 ] ] ]

// ---- homeadam: construction ---------------------------------------------------------------------------------

[<Fact>]
let ``A8 test_valid_defaults: lr 1e-3, betas (0.9, 0.99), eps 1e-7, weight_decay 0, tau 1, float32 state, denom`` () =
    let d = Moments.familyDefaults
    Assert.Equal((1e-3, 0.9, 0.99, 1e-7, 0.0), (d.Lr, d.Beta1, d.Beta2, d.Eps, d.WeightDecay))
    Assert.Equal(Some Float32, d.StateDType)
    Assert.Equal(1.0, HomeAdam.defaults.Tau)
    Assert.False(HomeAdam.defaults.Capturable)
    Assert.Equal(HomeAdamEW.Denom, HomeAdamEW.defaults.UpdateMode)
    AdamSrf.validate d |> ignore
    HomeAdam.validate HomeAdam.defaults |> ignore
    HomeAdamEW.validate HomeAdamEW.defaults |> ignore

[<Fact>]
let ``A8 construction errors name the argument (learning rate, beta1, beta2, epsilon, weight_decay, tau)`` () =
    let d = Moments.familyDefaults
    let e = assertRejects "lr" (fun () -> AdamSrf.validate { d with Lr = -0.1 })
    Assert.Contains("learning rate", e.Message)
    Assert.Contains("beta1", (assertRejects "betas" (fun () -> AdamSrf.validate { d with Beta1 = 1.0 })).Message)
    Assert.Contains("beta2", (assertRejects "betas" (fun () -> AdamSrf.validate { d with Beta2 = -0.1 })).Message)
    Assert.Contains("beta1", (assertRejects "betas" (fun () -> HomeAdam.validate { HomeAdam.defaults with Family = { d with Beta1 = 1.5 } })).Message)
    Assert.Contains("epsilon", (assertRejects "eps" (fun () -> AdamSrf.validate { d with Eps = -1e-7 })).Message)
    Assert.Contains("epsilon", (assertRejects "eps" (fun () -> HomeAdamEW.validate { HomeAdamEW.defaults with Family = { d with Eps = -1e-8 } })).Message)
    assertRejects "weight_decay" (fun () -> AdamSrf.validate { d with WeightDecay = -0.01 }) |> ignore
    assertRejects "tau" (fun () -> HomeAdam.validate { HomeAdam.defaults with Tau = -0.5 }) |> ignore
    assertRejects "tau" (fun () -> HomeAdam.validate { HomeAdam.defaults with Tau = 0.0 }) |> ignore
    assertRejects "tau" (fun () -> HomeAdamEW.validate { HomeAdamEW.defaults with Tau = 0.0 }) |> ignore
    assertRejects "lr" (fun () -> HomeAdamEW.validate { HomeAdamEW.defaults with Family = { d with Lr = -1.0 } }) |> ignore

// ---- homeadam: steps ----------------------------------------------------------------------------------------

[<Fact>]
let ``A8 test_single_step_updates_param and test_skip_none_grad: a parameter without gradient keeps value and gets no state`` () =
    let initial = [ vec [ 1.0; 2.0 ]; vec [ 3.0 ] ]
    let check (p: MathNet.Numerics.LinearAlgebra.Vector<float> list, s: Moments.MomentState option list) =
        assertDifferent initial[0] p[0]
        assertIdentical initial[1] p[1]
        Assert.True(s[1].IsNone)
        Assert.Equal(1, s[0].Value.Step)
    let f = { family 1e-3 0.9 0.99 1e-7 0.1 with StateDType = Some Float32 }
    let g = [ [ dense [ 0.3; -0.7 ]; None ] ]
    check (adamSrfRun f initial g)
    check (homeAdamRun (homeAdam f 1e-3) initial g)
    check (homeAdamEWRun (homeAdamEW f 1e-3) initial g)

[<Fact>]
let ``A8 test_weight_decay_shrinks_params: weight decay 0.1 and 0 give different results`` () =
    let withDecay, _ = adamSrfRun (family 0.01 0.9 0.99 1e-7 0.1) data grads
    let without, _ = adamSrfRun (family 0.01 0.9 0.99 1e-7 0.0) data grads
    assertDifferent withDecay.Head without.Head

[<Fact>]
let ``A8 test_near_zero_tau_matches_adam_srf and test_large_tau_uses_sgdm`` () =
    let f = family 0.01 0.9 0.99 1e-7 0.0
    let srf, _ = adamSrfRun f data grads
    let tiny, _ = homeAdamRun (homeAdam f 1e-12) data grads
    let huge, _ = homeAdamRun (homeAdam f 1e10) data grads
    assertIdentical srf.Head tiny.Head
    assertDifferent tiny.Head huge.Head
    let ewTiny, _ = homeAdamEWRun (homeAdamEW f 1e-12) data grads
    assertIdentical srf.Head ewTiny.Head

[<Fact>]
let ``A8 test_no_sqrt_differs_from_standard_adam: m-hat over (v-hat + eps) is not m-hat over (sqrt v-hat + eps)`` () =
    let srf, _ = adamSrfRun (family 0.01 0.9 0.99 1e-7 0.0) data grads
    let adam = vec [ 1.0; 2.0; 3.0 ] - 0.01 * (vec [ 0.5; -0.3; 0.8 ]).PointwiseDivide((vec [ 0.5; -0.3; 0.8 ]).PointwiseAbs() + 1e-7)
    assertDifferent adam srf.Head

[<Fact>]
let ``A8 test_large_tau_gives_sgdm (EW): p - (lr/(1-0.9))·0.1·g`` () =
    let p, _ = homeAdamEWRun (homeAdamEW (family 0.01 0.9 0.99 1e-7 0.0) 1e10) data grads
    assertClose 1e-15 [ 1.0 - 0.1 * 0.5 * 0.1; 2.0 + 0.1 * 0.3 * 0.1; 3.0 - 0.1 * 0.8 * 0.1 ] p.Head

[<Fact>]
let ``A8 test_multiple_param_groups: each group keeps its own options (lr 0.01 / 0.001, tau 0.5 / 2.0)`` () =
    let f = family 0.01 0.9 0.99 1e-7 0.0
    let groups : Group<HomeAdamEW.Options> list =
        [ { Options = homeAdamEW f 0.5; Members = [ 0 ] }; { Options = homeAdamEW { f with Lr = 0.001 } 2.0; Members = [ 1 ] } ]
    let p, _, masks = HomeAdamEW.step groups [ vec [ 1.0 ]; vec [ 1.0 ] ] [ dense [ 1.0 ]; dense [ 1.0 ] ] [ None; None ]
    // v-hat = 1: adaptive against 0.5, SGDM against 2.0.
    Assert.Equal<bool[]>([| true |], masks[0].Head.Value)
    Assert.Equal<bool[]>([| false |], masks[1].Head.Value)
    assertClose 1e-15 [ 1.0 - 0.01 / (1.0 + 1e-7) ] p[0]
    assertClose 1e-15 [ 1.0 - 0.001 ] p[1]

[<Fact>]
let ``A8 test_state_dict_roundtrip and test_state_dict_resume_same_trajectory: resuming from the state record continues identically`` () =
    let o = homeAdamEW (family 0.01 0.9 0.99 1e-7 0.0) 1e-3
    let rng = Random(42)
    let stepsOf n = List.init n (fun _ -> [ dense (List.init 4 (fun _ -> rng.NextDouble() - 0.5)) ])
    let first, later = stepsOf 10, stepsOf 5
    let continuous, _ = homeAdamEWRun o [ vec [ 1.0; 2.0; 3.0; 4.0 ] ] (first @ later)
    let p, s = homeAdamEWRun o [ vec [ 1.0; 2.0; 3.0; 4.0 ] ] first
    let resumed, _ = later |> List.fold (fun (p, s) g -> let p', s', _ = HomeAdamEW.step (oneGroup o 1) p g s in p', s') (p, s)
    assertIdentical continuous.Head resumed.Head

[<Fact>]
let ``A8 test_homeadam_ew_update_modes_are_numerically_close: the two modes agree (here exactly)`` () =
    let rng = Random(7)
    let steps = List.init 5 (fun _ -> [ dense (List.init 16 (fun _ -> rng.NextDouble() * 2.0 - 1.0)) ])
    let start = [ vec (List.init 16 (fun i -> float i / 10.0)) ]
    let o = homeAdamEW (family 0.01 0.9 0.99 1e-7 0.0) 0.1
    let denom, _ = homeAdamEWRun o start steps
    let where, _ = homeAdamEWRun { o with UpdateMode = HomeAdamEW.WhereUpdate } start steps
    assertIdentical denom.Head where.Head

[<Fact>]
let ``A8 test_homeadam_capturable_and_non_capturable_match (tau 0.01, finite gradients)`` () =
    let o = homeAdam (family 0.01 0.9 0.99 1e-7 0.0) 0.01
    let p, _ = homeAdamRun o data grads
    let c, _ = homeAdamRun { o with Capturable = true } data grads
    assertIdentical p.Head c.Head

[<Fact>]
let ``A8 test_homeadam_moment_buffers_match_adamw: m, v and step equal AdamW's, P1 = beta1^step, P2 = beta2^step`` () =
    let rng = Random(3)
    let steps = List.init 5 (fun _ -> [ dense (List.init 6 (fun _ -> rng.NextDouble() - 0.5)) ])
    let start = [ vec [ 0.1; 0.2; 0.3; 0.4; 0.5; 0.6 ] ]
    let _, hs = homeAdamRun (homeAdam (family 1e-3 0.85 0.97 1e-8 0.0) 1.0) start steps
    let _, aws = adamWRun { AdamW.defaults with Beta1 = 0.85; Beta2 = 0.97; WeightDecay = 0.0 } start steps
    let h, a = hs.Head.Value, aws.Head.Value
    Assert.Equal(a.Step, h.Step)
    for i in 0 .. 5 do
        Assert.Equal(a.ExpAvg[i], h.ExpAvg[i], 15)
        Assert.Equal(a.ExpAvgSq[i], h.ExpAvgSq[i], 15)
    Assert.Equal(0.85 ** 5.0, h.Beta1Power, 15)
    Assert.Equal(0.97 ** 5.0, h.Beta2Power, 15)

[<Fact>]
let ``A5: state_dtype None follows the parameter and is accepted; a non-floating dtype is rejected`` () =
    AdamSrf.validate { Moments.familyDefaults with StateDType = None } |> ignore
    let e = assertRejects "state_dtype" (fun () -> HomeAdamEW.validate { HomeAdamEW.defaults with Family = { Moments.familyDefaults with StateDType = Some(NonFloating "int32") } })
    Assert.Contains("floating", e.Message)

[<Fact>]
let ``A6.2 NaN corner: a NaN minimum is adaptive without capturable and SGDM with it`` () =
    let o = homeAdam (family 1e-3 0.9 0.99 1e-7 0.0) 1e-3
    let start = [ vec [ 1.0; 1.0; 1.0 ] ]
    let g = [ [ dense [ nan; 1.0; 0.0 ] ] ]
    let plain, _ = homeAdamRun o start g
    let captured, _ = homeAdamRun { o with Capturable = true } start g
    assertClose 1e-15 [ nan; 1.0 - 1e-3 / (1.0 + 1e-7); 1.0 ] plain.Head
    assertClose 1e-15 [ nan; 1.0 - 1e-3; 1.0 ] captured.Head

[<Fact>]
let ``A6.5 sparse gradients are rejected before anything changes, in any group`` () =
    let groups : Group<Moments.FamilyOptions> list = [ { Options = Moments.familyDefaults; Members = [ 0 ] }; { Options = Moments.familyDefaults; Members = [ 1 ] } ]
    let e = Assert.Throws<NotSupportedException>(fun () ->
        AdamSrf.step groups [ vec [ 1.0; 1.0 ]; vec [ 1.0; 1.0; 1.0 ] ] [ dense [ 1.0; 1.0 ]; Some(SparseCoo([| 0 |], [| 1.0 |])) ] [ None; None ] |> ignore)
    Assert.Contains("AdamSRF does not support sparse gradients", e.Message)

// ---- STAC ---------------------------------------------------------------------------------------------------

let private p name identity = moduleParameter name true identity
let private frozen name identity = moduleParameter name false identity
let private m name parameters children = treeModule name parameters children
let private linear name first = m name [ p "weight" first; p "bias" (first + 1) ] []

/// StackedNet: stem Linear(4,4), block Sequential(Linear(4,3), ReLU, Linear(3,2)), head Linear(2,1).
let private stackedNet headFrozen =
    m "" [] [ linear "stem" 0
              m "block" [] [ linear "0" 2; m "1" [] []; linear "2" 4 ]
              (if headFrozen then m "head" [ frozen "weight" 6; frozen "bias" 7 ] [] else linear "head" 6) ]

[<Fact>]
let ``B9 test_partition_defaults_to_last_trainable_layer`` () =
    let part = StacPartition.ofTree 1 (stackedNet false)
    Assert.Equal<string list>([ "stem"; "block.0"; "block.2" ], part.TrunkLayerNames)
    Assert.Equal<string list>([ "head" ], part.CapLayerNames)
    Assert.Equal<string list>([ "head.weight"; "head.bias" ], part.CapParameterNames)

[<Fact>]
let ``B9 test_partition_skips_frozen_layers_when_counting_last_n`` () =
    let part = StacPartition.ofTree 1 (stackedNet true)
    Assert.Equal<string list>([ "stem"; "block.0" ], part.TrunkLayerNames)
    Assert.Equal<string list>([ "block.2" ], part.CapLayerNames)

[<Fact>]
let ``B9 test_last_n_zero_keeps_all_layers_in_signsgd_trunk and oversized last_n promotes all to the cap`` () =
    let all = StacPartition.ofTree 0 (stackedNet false)
    Assert.Equal<string list>([ "stem"; "block.0"; "block.2"; "head" ], all.TrunkLayerNames)
    Assert.Empty(all.CapLayerNames)
    let modules = StacPartition.namedModules (stackedNet false)
    let o = Stac.create { Stac.defaults with LastNLayers = 0; Lr = 0.1 } modules
    Assert.True(o.Cap.IsNone)
    Assert.Equal(0.1, o.Trunk.Value.Lr)      // all-trunk: trunk_lr defaults to lr, not 0.75·lr
    let cap = Stac.create { Stac.defaults with LastNLayers = 99; Lr = 0.1 } modules
    Assert.True(cap.Trunk.IsNone)
    Assert.Equal<string list>([ "stem"; "block.0"; "block.2"; "head" ], cap.Partition.CapLayerNames)

[<Fact>]
let ``B9 test_default_hybrid_trunk_lr_is_scaled_down: trunk 0.075, cap 0.1`` () =
    let o = Stac.create { Stac.defaults with Lr = 0.1 } (StacPartition.namedModules (m "" [] [ m "trunk" [ p "weight" 0 ] []; m "head" [ p "weight" 1 ] [] ]))
    Assert.Equal(0.075, o.Trunk.Value.Lr, 15)
    Assert.Equal(0.1, o.Cap.Value.Options.Lr)

[<Fact>]
let ``B9 test_negative_last_n_layers_is_rejected and test_requires_at_least_one_trainable_parameter`` () =
    let e = assertRejects "last_n_layers" (fun () -> Stac.create { Stac.defaults with LastNLayers = -1 } (StacPartition.namedModules (stackedNet false)))
    Assert.Contains("last_n_layers", e.Message)
    let allFrozen = m "" [ frozen "weight" 0; frozen "bias" 1 ] []
    let e2 = assertRejects "model" (fun () -> Stac.create Stac.defaults (StacPartition.namedModules allFrozen))
    Assert.Contains("at least one trainable parameter", e2.Message)

[<Fact>]
let ``B9 test_state_dict_round_trip_preserves_optimizer_behavior (mu 0.8, betas (0.7, 0.9), wd 0.01, lr 0.1)`` () =
    let modules = StacPartition.namedModules (m "" [] [ m "trunk" [ p "weight" 0 ] []; m "head" [ p "weight" 1 ] [] ])
    let options = { Stac.defaults with Lr = 0.1; TrunkMomentum = 0.8; Beta1 = 0.7; Beta2 = 0.9; WeightDecay = 0.01 }
    let a = Stac.create options modules
    let p1, s1, _ = Stac.step a [ vec [ 1.0 ]; vec [ 1.0 ] ] [ dense [ 0.3 ]; dense [ 0.3 ] ] (Stac.emptyState 2)
    let b = Stac.create options modules
    let pa, _, _ = Stac.step a p1 [ dense [ -0.1 ]; dense [ -0.1 ] ] s1
    let pb, _, _ = Stac.step b p1 [ dense [ -0.1 ]; dense [ -0.1 ] ] s1
    List.iter2 assertIdentical pa pb

/// SparseNet: an Embedding (sparse gradients) then a head.
let private sparseNet = StacPartition.namedModules (m "" [] [ m "embedding" [ p "weight" 0 ] []; m "head" [ p "weight" 1 ] [] ])

[<Fact>]
let ``B9 test_sparse_gradients_are_rejected_in_both_roles, before anything changes`` () =
    let grads = [ Some(SparseCoo([| 1 |], [| 1.0 |])); dense [ 1.0 ] ]
    let trunk = Stac.create { Stac.defaults with LastNLayers = 1 } sparseNet
    let e = Assert.Throws<NotSupportedException>(fun () -> Stac.step trunk [ vec [ 1.0; 1.0 ]; vec [ 1.0 ] ] grads (Stac.emptyState 2) |> ignore)
    Assert.Contains("STAC does not support sparse gradients", e.Message)
    let cap = Stac.create { Stac.defaults with LastNLayers = 2 } sparseNet
    let e2 = Assert.Throws<NotSupportedException>(fun () -> Stac.step cap [ vec [ 1.0; 1.0 ]; vec [ 1.0 ] ] grads (Stac.emptyState 2) |> ignore)
    Assert.Contains("AdamW cap does not support sparse gradients", e2.Message)

[<Fact>]
let ``B9 test_nonfinite_gradients_can_raise; 0.1.3+ skips the whole step by default; 0.1.2 propagates`` () =
    let modules = StacPartition.namedModules (m "" [] [ m "trunk" [ p "weight" 0 ] []; m "head" [ p "weight" 1 ] [] ])
    let start = [ vec [ 1.0 ]; vec [ 1.0 ] ]
    let grads = [ dense [ nan ]; dense [ 0.5 ] ]
    let throwing = Stac.create { Stac.defaults with Lr = 0.1; NonFinite = Stac.Throw } modules
    let e = Assert.Throws<InvalidOperationException>(fun () -> Stac.step throwing start grads (Stac.emptyState 2) |> ignore)
    Assert.Contains("non-finite gradients in the STAC trunk", e.Message)
    let skipping = Stac.create { Stac.defaults with Lr = 0.1 } modules
    let p, s, skipped = Stac.step skipping start grads (Stac.emptyState 2)
    Assert.True(skipped)
    Assert.Equal(1, s.NonfiniteSkippedSteps)
    List.iter2 assertIdentical start p
    Assert.True(s.Params |> List.forall Option.isNone)
    let propagating = Stac.create { Stac.defaults with Lr = 0.1; WeightDecay = 0.01; NonFinite = Stac.Propagate } modules
    let p', s', skipped' = Stac.step propagating start grads (Stac.emptyState 2)
    Assert.False(skipped')
    // sign(NaN) = 0 in torch: the trunk element only decays, and the NaN stays in its momentum buffer.
    assertClose 1e-15 [ 1.0 - 0.075 * 0.01 ] p'[0]
    match s'.Params[0] with
    | Some (Stac.TrunkMomentumBuffer b) -> Assert.True(Double.IsNaN b[0])
    | other -> failwithf "expected a trunk buffer, got %A" other

[<Fact>]
let ``B6: the trunk moves by eta times sign, with sign(0) = 0 and sign(NaN) = 0, with or without momentum`` () =
    let modules = StacPartition.namedModules (m "" [] [ m "trunk" [ p "weight" 0 ] []; m "head" [ p "weight" 1 ] [] ])
    for mu in [ 0.0; 0.9 ] do
        let o = Stac.create { Stac.defaults with TrunkLr = Some 0.1; TrunkMomentum = mu; NonFinite = Stac.Propagate } modules
        let p, _, _ = Stac.step o [ vec [ 1.0; 1.0; 1.0; 1.0 ]; vec [ 1.0 ] ] [ dense [ 0.0; 2.0; -1e-30; nan ]; None ] (Stac.emptyState 2)
        assertClose 1e-15 [ 1.0; 0.9; 1.1; 1.0 ] p[0]

[<Fact>]
let ``A6.2, A6.3: v-hat exactly equal to tau is adaptive (the comparison is >=), in HomeAdam (both paths) and HomeAdamEW`` () =
    // β2 = 0 makes P2 = 0, so v̂ = g⊙g exactly: 0.25 for g = 0.5, on τ; 0.0625 for g = 0.25, below it.
    let f = family 0.1 0.0 0.0 0.0 0.0
    for capturable in [ false; true ] do
        let p, _, d = HomeAdam.step (oneGroup { homeAdam f 0.25 with Capturable = capturable } 1) [ vec [ 1.0 ] ] [ dense [ 0.5 ] ] [ None ]
        Assert.True(d.Head.UseAdaptive)
        assertClose 1e-15 [ 1.0 - 0.1 * 0.5 / 0.25 ] p.Head
    let p, _, masks = HomeAdamEW.step (oneGroup (homeAdamEW f 0.25) 1) [ vec [ 1.0; 1.0 ] ] [ dense [ 0.5; 0.25 ] ] [ None ]
    Assert.Equal<bool[]>([| true; false |], masks.Head.Head.Value)
    assertClose 1e-15 [ 1.0 - 0.1 * 0.5 / 0.25; 1.0 - 0.1 * 0.25 ] p.Head
