/// Worked values with their provenance: upstream-spec A13/B14, from upstream's test suite (homeadam 0.1.3
/// tests/test_functional.py, test_homeadam.py, test_optimizer_features.py; stac-optimizer 0.1.2 tests/test_stac.py).
/// Upstream states them in double precision; the reference must reproduce them to a few ulps.
module Optimizers.Reference.Tests.WorkedValueTests

open Xunit
open Optimizers.Reference
open Optimizers.Reference.Tests.Support

let private tight = 1e-14

[<Fact>]
let ``A13: AdamSRF one step on [1,2,3] matches the transcription of the paper`` () =
    let p, _ = adamSrfRun (family 0.01 0.9 0.99 1e-7 0.0) [ vec [ 1.0; 2.0; 3.0 ] ] [ [ dense [ 0.5; -0.3; 0.8 ] ] ]
    assertClose tight [ 0.980000007999997; 2.033333296296338; 2.987500001953125 ] p.Head

[<Fact>]
let ``A13: HomeAdam with tau 1e10 takes the SGDM step`` () =
    let p, _ = homeAdamRun (homeAdam (family 0.01 0.9 0.99 1e-7 0.0) 1e10) [ vec [ 1.0; 2.0; 3.0 ] ] [ [ dense [ 0.5; -0.3; 0.8 ] ] ]
    assertClose tight [ 0.995; 2.003; 2.992 ] p.Head

[<Fact>]
let ``A13: HomeAdamEW mixes adaptive and SGDM elements (v-hat 100, 1e-6, 25 against tau 0.5)`` () =
    let o = homeAdamEW (family 0.01 0.9 0.99 1e-7 0.0) 0.5
    let p, _, masks = HomeAdamEW.step (oneGroup o 1) [ vec [ 1.0; 2.0; 3.0 ] ] [ dense [ 10.0; 0.001; 5.0 ] ] [ None ]
    assertClose tight [ 0.999000000001; 1.99999; 2.998000000008 ] p.Head
    Assert.Equal<bool[]>([| true; false; true |], masks.Head.Head.Value)

[<Fact>]
let ``A13: HomeAdamEW three accumulated steps with tau 0.005`` () =
    let grads = [ [ dense [ 0.5; -0.3; 0.8 ] ]; [ dense [ 0.1; 0.4; -0.2 ] ]; [ dense [ -0.3; 0.1; 0.6 ] ] ]
    let p, _ = homeAdamEWRun (homeAdamEW (family 0.01 0.9 0.99 1e-7 0.0) 0.005) [ vec [ 1.0; 2.0; 3.0 ] ] grads
    assertClose 1e-13 [ 0.9514330502144616; 2.018599241083773; 2.968015796471199 ] p.Head

[<Fact>]
let ``A13: HomeAdam decides once for the group (v-hat 4 and 0.25, tau 1, both take SGDM)`` () =
    let o = homeAdam (family 0.1 0.0 0.0 0.0 0.0) 1.0
    let p, _, decisions = HomeAdam.step (oneGroup o 2) [ vec [ 10.0 ]; vec [ 10.0 ] ] [ dense [ 2.0 ]; dense [ 0.5 ] ] [ None; None ]
    assertClose tight [ 9.8 ] p[0]
    assertClose tight [ 9.95 ] p[1]
    Assert.False(decisions.Head.UseAdaptive)
    Assert.Equal(0.25, decisions.Head.MinVHat, 15)

[<Fact>]
let ``A13: HomeAdam decides on the bias-corrected v-hat (raw v 0.04 < tau, v-hat 4 >= tau)`` () =
    let p, s = homeAdamRun (homeAdam (family 0.1 0.9 0.99 0.0 0.0) 1.0) [ vec [ 10.0 ] ] [ [ dense [ 2.0 ] ] ]
    Assert.Equal(0.04, s.Head.Value.ExpAvgSq[0], 15)
    assertClose tight [ 9.95 ] p.Head

[<Fact>]
let ``A13: HomeAdam with a zero gradient only decays, like AdamW`` () =
    let homeP, _ = homeAdamRun (homeAdam (family 0.1 0.9 0.99 1e-8 0.2) 1.0) [ vec [ 3.0; -2.0 ] ] [ [ dense [ 0.0; 0.0 ] ] ]
    assertClose tight [ 2.94; -1.96 ] homeP.Head
    let adamWP, _ = adamWRun { AdamW.defaults with Lr = 0.1; WeightDecay = 0.2; Eps = 1e-8 } [ vec [ 3.0; -2.0 ] ] [ [ dense [ 0.0; 0.0 ] ] ]
    assertClose tight [ 2.94; -1.96 ] adamWP.Head

[<Fact>]
let ``A13: AdamSRF two steps with decoupled weight decay`` () =
    let p, _ = adamSrfRun (family 0.01 0.9 0.99 1e-7 0.1) [ vec [ 1.0; -2.0 ] ] [ [ dense [ 0.5; 0.25 ] ]; [ dense [ -0.5; 0.1 ] ] ]
    assertClose tight [ 0.9790736391498917; -2.0833210726756204 ] p.Head

// ---- STAC (B14). TwoLayerNet: trunk Linear(1,1,bias=False) then head Linear(1,1,bias=False), both weights 1.0. ----

let private twoLayerNet : StacPartition.NamedModule list =
    [ namedModule "" []
      namedModule "trunk" [ moduleParameter "weight" true 0 ]
      namedModule "head" [ moduleParameter "weight" true 1 ] ]

let private stacRun (options: Stac.Options) (model: StacPartition.NamedModule list) (initial: float list) (gradients: Gradient option list list) =
    let optimizer = Stac.create options model
    gradients
    |> List.fold (fun (p, s) g -> let p', s', _ = Stac.step optimizer p g s in p', s') (initial |> List.map (fun x -> vec [ x ]), Stac.emptyState initial.Length)

[<Fact>]
let ``B14: plain sign trunk and AdamW cap, lr 0.1, betas (0.9, 0.99), wd 0.01, grads 0.2 then 0.4`` () =
    let options = { Stac.defaults with Lr = 0.1; TrunkLr = Some 0.1; TrunkMomentum = 0.0; Beta2 = 0.99; WeightDecay = 0.01 }
    let p, _ = stacRun options twoLayerNet [ 1.0; 1.0 ] [ [ dense [ 0.2 ]; dense [ 0.2 ] ]; [ dense [ 0.4 ]; dense [ 0.4 ] ] ]
    assertClose tight [ 0.798101 ] p[0]
    assertClose tight [ 0.8017135199774406 ] p[1]

[<Fact>]
let ``B14: the trunk takes the sign of the accumulated momentum (mu 0.5, grads 1.0 then -0.1)`` () =
    let options = { Stac.defaults with Lr = 0.1; TrunkLr = Some 0.1; TrunkMomentum = 0.5; WeightDecay = 0.01 }
    let p, s = stacRun options twoLayerNet [ 1.0; 1.0 ] [ [ dense [ 1.0 ]; None ]; [ dense [ -0.1 ]; None ] ]
    assertClose tight [ 0.798101 ] p[0]
    match s.Params[0] with
    | Some (Stac.TrunkMomentumBuffer b) -> assertClose tight [ 0.2 ] b
    | other -> failwithf "expected a trunk momentum buffer, got %A" other
    Assert.True(s.Params[1].IsNone, "the head had no gradient, so it has no state")

[<Fact>]
let ``B14: role-specific learning rates (trunk 0.2, cap 0.05)`` () =
    let options = { Stac.defaults with Lr = 0.1; TrunkLr = Some 0.2; CapLr = Some 0.05; TrunkMomentum = 0.0 }
    let p, _ = stacRun options twoLayerNet [ 1.0; 1.0 ] [ [ dense [ 1.0 ]; dense [ 1.0 ] ] ]
    assertClose tight [ 0.8 ] p[0]
    assertClose tight [ 0.9500000005 ] p[1]

[<Fact>]
let ``B14: AMSGrad cap (all layers in the cap), grads 2.0, 0.1, 0.1`` () =
    let grads = [ [ None; dense [ 2.0 ] ]; [ None; dense [ 0.1 ] ]; [ None; dense [ 0.1 ] ] ]
    let withAms = { Stac.defaults with Lr = 0.1; LastNLayers = 2; Beta2 = 0.99; WeightDecay = 0.01; Amsgrad = true }
    let p, _ = stacRun withAms twoLayerNet [ 1.0; 1.0 ] grads
    assertClose tight [ 0.7691871706931634 ] p[1]
    let p', _ = stacRun { withAms with Amsgrad = false } twoLayerNet [ 1.0; 1.0 ] grads
    assertClose tight [ 0.768487083922013 ] p'[1]

[<Fact>]
let ``B14: default hybrid trunk (0.75 lr, mu 0.9), grads 0.3, -0.5, 0.1`` () =
    let options = { Stac.defaults with Lr = 0.1; WeightDecay = 0.01 }
    let p, s = stacRun options twoLayerNet [ 1.0; 1.0 ] [ [ dense [ 0.3 ]; None ]; [ dense [ -0.5 ]; None ]; [ dense [ 0.1 ]; None ] ]
    assertClose 1e-13 [ 1.072807894890625 ] p[0]
    match s.Params[0] with
    | Some (Stac.TrunkMomentumBuffer b) -> assertClose 1e-15 [ -0.0107 ] b
    | other -> failwithf "expected a trunk momentum buffer, got %A" other
