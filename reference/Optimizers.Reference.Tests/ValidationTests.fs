/// Constructor checks: upstream's conditions, its order, NaN behaviour, and the argument each error names
/// (upstream-spec A4 and B5; torch 1.13's AdamW for the baseline).
module Optimizers.Reference.Tests.ValidationTests

open Xunit
open Optimizers.Reference
open Optimizers.Reference.Tests.Support

[<Fact>]
let ``A4: one-sided checks let NaN through, range checks reject it`` () =
    let d = Moments.familyDefaults
    AdamSrf.validate { d with Lr = nan; Eps = nan; WeightDecay = nan } |> ignore
    HomeAdam.validate { HomeAdam.defaults with Tau = nan } |> ignore
    HomeAdam.validate { HomeAdam.defaults with Tau = infinity } |> ignore
    assertRejects "betas" (fun () -> AdamSrf.validate { d with Beta1 = nan }) |> ignore
    assertRejects "betas" (fun () -> AdamSrf.validate { d with Beta2 = nan }) |> ignore

[<Fact>]
let ``A4: lr, eps, beta1 and beta2 of zero are accepted`` () =
    AdamSrf.validate (family 0.0 0.0 0.0 0.0 0.0) |> ignore

[<Fact>]
let ``A4: checks run in upstream's order (lr before eps, betas before tau, tau before state_dtype)`` () =
    let d = Moments.familyDefaults
    assertRejects "lr" (fun () -> AdamSrf.validate { d with Lr = -1.0; Eps = -1.0 }) |> ignore
    assertRejects "betas" (fun () -> HomeAdam.validate { HomeAdam.defaults with Family = { d with Beta2 = 1.5 }; Tau = -1.0 }) |> ignore
    assertRejects "tau" (fun () -> HomeAdam.validate { Family = { d with StateDType = Some(NonFloating "int8") }; Tau = 0.0; Capturable = false }) |> ignore

[<Fact>]
let ``A4: update_mode must be denom or where_update`` () =
    Assert.Equal(HomeAdamEW.WhereUpdate, HomeAdamEW.parseUpdateMode "where_update")
    let e = assertRejects "update_mode" (fun () -> HomeAdamEW.parseUpdateMode "bogus")
    Assert.Contains("bogus", e.Message)

[<Fact>]
let ``torch 1.13 AdamW: not (0 <= x) rejects NaN; order lr, eps, betas, weight_decay`` () =
    let d = AdamW.defaults
    AdamW.validate d |> ignore
    assertRejects "lr" (fun () -> AdamW.validate { d with Lr = nan }) |> ignore
    assertRejects "eps" (fun () -> AdamW.validate { d with Eps = -1e-8; Beta1 = 1.0 }) |> ignore
    assertRejects "betas" (fun () -> AdamW.validate { d with Beta1 = 1.0; WeightDecay = -1.0 }) |> ignore
    assertRejects "weight_decay" (fun () -> AdamW.validate { d with WeightDecay = -0.1 }) |> ignore

let private twoLayers =
    StacPartition.namedModules (treeModule "" [] [ treeModule "a" [ moduleParameter "w" true 0 ] []; treeModule "b" [ moduleParameter "w" true 1 ] [] ])

[<Fact>]
let ``B5: STAC checks lr, eps, weight_decay, betas, trunk_momentum, trunk_state_dtype, partition, then resolved values`` () =
    let d = Stac.defaults
    let create o = Stac.create o twoLayers
    assertRejects "lr" (fun () -> create { d with Lr = -1.0; Eps = -1.0 }) |> ignore
    assertRejects "eps" (fun () -> create { d with Eps = -1.0; WeightDecay = -1.0 }) |> ignore
    assertRejects "weight_decay" (fun () -> create { d with WeightDecay = -1.0; Beta1 = 1.0 }) |> ignore
    assertRejects "betas" (fun () -> create { d with Beta2 = -0.5; TrunkMomentum = 1.0 }) |> ignore
    assertRejects "trunk_momentum" (fun () -> create { d with TrunkMomentum = 1.0; TrunkStateDType = Some(NonFloating "int32") }) |> ignore
    assertRejects "trunk_state_dtype" (fun () -> create { d with TrunkStateDType = Some(NonFloating "int32"); LastNLayers = -1 }) |> ignore
    assertRejects "last_n_layers" (fun () -> create { d with LastNLayers = -1; TrunkLr = Some -1.0 }) |> ignore
    assertRejects "trunk_lr" (fun () -> create { d with TrunkLr = Some -1.0; CapLr = Some -1.0 }) |> ignore
    assertRejects "cap_lr" (fun () -> create { d with CapLr = Some -1.0; TrunkWeightDecay = Some -1.0 }) |> ignore
    assertRejects "trunk_weight_decay" (fun () -> create { d with TrunkWeightDecay = Some -1.0; CapWeightDecay = Some -1.0 }) |> ignore
    assertRejects "cap_weight_decay" (fun () -> create { d with CapWeightDecay = Some -1.0 }) |> ignore
    create { d with Lr = nan; TrunkMomentum = 0.0; TrunkStateDType = Some BFloat16 } |> ignore
    assertRejects "trunk_momentum" (fun () -> create { d with TrunkMomentum = nan }) |> ignore

[<Fact>]
let ``B5: trunk_lr defaults to 0.75 lr only in hybrid mode; an explicit trunk_lr is used as given`` () =
    let hybrid = Stac.create { Stac.defaults with Lr = 0.2 } twoLayers
    Assert.Equal(0.75 * 0.2, hybrid.Trunk.Value.Lr)
    Assert.Equal(0.2, hybrid.Cap.Value.Options.Lr)
    let explicitLr = Stac.create { Stac.defaults with Lr = 0.2; TrunkLr = Some 0.3; CapLr = Some 0.05 } twoLayers
    Assert.Equal(0.3, explicitLr.Trunk.Value.Lr)
    Assert.Equal(0.05, explicitLr.Cap.Value.Options.Lr)
    let allCap = Stac.create { Stac.defaults with Lr = 0.2; LastNLayers = 2 } twoLayers
    Assert.True(allCap.Trunk.IsNone)
    let decays = Stac.create { Stac.defaults with WeightDecay = 0.1; CapWeightDecay = Some 0.3 } twoLayers
    Assert.Equal(0.1, decays.Trunk.Value.WeightDecay)
    Assert.Equal(0.3, decays.Cap.Value.Options.WeightDecay)
