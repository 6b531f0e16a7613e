/// Properties that tie the algorithms to each other (FsCheck through Check.One inside facts).
module Optimizers.Reference.Tests.PropertyTests

open System
open Xunit
open FsCheck
open FsCheck.FSharp
open MathNet.Numerics.LinearAlgebra
open Optimizers.Reference
open Optimizers.Reference.Tests.Support

let private config n = Config.QuickThrowOnFailure.WithMaxTest(n)

/// A nonzero value spread over decades (1e-4 .. 1e2), either sign.
let private spread : Gen<float> =
    gen {
        let! exponent = Gen.choose (-400, 200)
        let! negative = Gen.elements [ true; false ]
        let x = 10.0 ** (float exponent / 100.0)
        return if negative then -x else x
    }

/// Parameters (1-3 tensors of 1-5 elements) and 1-5 steps of gradients; a tensor may lack a gradient at a step.
type private Trajectory = { Initial: float list list; Steps: float list option list list }

let private trajectory (allowMissing: bool) : Gen<Trajectory> =
    gen {
        let! count = Gen.choose (1, 3)
        let! lengths = Gen.listOfLength count (Gen.choose (1, 5))
        let! initial = lengths |> List.map (fun n -> Gen.listOfLength n spread) |> Gen.sequenceToList
        let! steps = Gen.choose (1, 5)
        let stepGen =
            lengths
            |> List.map (fun n ->
                gen {
                    let! missing = if allowMissing then Gen.frequency [ 1, Gen.constant true; 4, Gen.constant false ] else Gen.constant false
                    if missing then return None
                    else
                        let! g = Gen.listOfLength n spread
                        return Some g
                })
            |> Gen.sequenceToList
        let! all = Gen.listOfLength steps stepGen
        return { Initial = initial; Steps = all }
    }

let private asInputs (t: Trajectory) =
    t.Initial |> List.map vec, t.Steps |> List.map (List.map (Option.map (fun g -> Dense(vec g))))

let private options = family 0.01 0.9 0.99 1e-7 0.05

let private identical (a: Vector<float> list) (b: Vector<float> list) =
    List.forall2 (fun (x: Vector<float>) (y: Vector<float>) -> Seq.forall2 (fun (p: float) q -> p = q || (Double.IsNaN p && Double.IsNaN q)) x y) a b

[<Fact>]
let ``HomeAdamEW with tau below every v-hat equals AdamSRF exactly`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (trajectory true)) (fun t ->
        let initial, steps = asInputs t
        let srf, _ = adamSrfRun options initial steps
        let ew, _ = homeAdamEWRun (homeAdamEW options Double.Epsilon) initial steps
        identical srf ew))

[<Fact>]
let ``HomeAdam with tau below every v-hat equals AdamSRF; with tau = +infinity it equals HomeAdamEW's all-SGDM step`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (trajectory true)) (fun t ->
        let initial, steps = asInputs t
        let srf, _ = adamSrfRun options initial steps
        let adaptive, _ = homeAdamRun (homeAdam options Double.Epsilon) initial steps
        let sgdm, _ = homeAdamRun (homeAdam options infinity) initial steps
        let ewSgdm, _ = homeAdamEWRun (homeAdamEW options infinity) initial steps
        identical srf adaptive && identical sgdm ewSgdm))

[<Fact>]
let ``HomeAdam's SGDM branch is momentum SGD: theta (1 - eta lambda) - eta m-hat`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (trajectory false)) (fun t ->
        let initial, steps = asInputs t
        let p, s = homeAdamRun (homeAdam options infinity) initial (List.truncate (steps.Length - 1) steps)
        let last = List.last steps
        let p', _, decisions = HomeAdam.step (oneGroup (homeAdam options infinity) p.Length) p last s
        let expected =
            List.map3 (fun (theta: Vector<float>) (g: Gradient option) (st: Moments.MomentState option) ->
                let state = Moments.advance 0.9 0.99 (st |> Option.defaultWith (fun () -> Moments.fresh theta.Count)) (match g with Some (Dense d) -> d | _ -> failwith "dense")
                theta * (1.0 - 0.01 * 0.05) - (0.01 / (1.0 - state.Beta1Power)) * state.ExpAvg) p last s
        not decisions.Head.UseAdaptive
        && List.forall2 (fun (a: Vector<float>) (b: Vector<float>) -> (a - b).InfinityNorm() <= 1e-12 * (1.0 + b.InfinityNorm())) p' expected))

[<Fact>]
let ``HomeAdam decides once per group: every parameter takes the branch the group minimum chose`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (Gen.zip (trajectory false) (Gen.choose (-8, 4)))) (fun (t, tauExponent) ->
        let initial, steps = asInputs t
        let tau = 10.0 ** float tauExponent
        let o = homeAdam options tau
        let p, s = homeAdamRun o initial (List.truncate (steps.Length - 1) steps)
        let last = List.last steps
        let homeP, _, decisions = HomeAdam.step (oneGroup o p.Length) p last s
        let srfP, _ = AdamSrf.step (oneGroup options p.Length) p last s
        let sgdmP, _, _ = HomeAdam.step (oneGroup (homeAdam options infinity) p.Length) p last s
        let d = decisions.Head
        (d.UseAdaptive = (d.MinVHat >= tau)) && identical homeP (if d.UseAdaptive then srfP else sgdmP)))

[<Fact>]
let ``HomeAdamEW's denom and where_update modes give identical numbers`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (Gen.zip (trajectory true) (Gen.choose (-8, 4)))) (fun (t, tauExponent) ->
        let initial, steps = asInputs t
        let o = homeAdamEW options (10.0 ** float tauExponent)
        let a, _ = homeAdamEWRun o initial steps
        let b, _ = homeAdamEWRun { o with UpdateMode = HomeAdamEW.WhereUpdate } initial steps
        identical a b))

[<Fact>]
let ``A parameter without a gradient is skipped entirely: same value, no state, no step`` () =
    Check.One(config 200, Prop.forAll (Arb.fromGen (trajectory true)) (fun t ->
        let initial, steps = asInputs t
        let p, s = homeAdamEWRun (homeAdamEW options 1e-3) initial steps
        let neverStepped i = steps |> List.forall (fun g -> (List.item i g).IsNone)
        let stepCount i = steps |> List.filter (fun g -> (List.item i g).IsSome) |> List.length
        List.indexed initial |> List.forall (fun (i, theta) ->
            if neverStepped i then identical [ theta ] [ p[i] ] && s[i].IsNone
            else s[i].Value.Step = stepCount i)))

[<Fact>]
let ``HomeAdam's capturable flag changes nothing on finite gradients`` () =
    Check.One(config 100, Prop.forAll (Arb.fromGen (Gen.zip (trajectory true) (Gen.choose (-8, 4)))) (fun (t, tauExponent) ->
        let initial, steps = asInputs t
        let o = homeAdam options (10.0 ** float tauExponent)
        let a, _ = homeAdamRun o initial steps
        let b, _ = homeAdamRun { o with Capturable = true } initial steps
        identical a b))

// ---- STAC partition and steps ---------------------------------------------------------------------------------

/// A random flat module list: some modules own nothing, some parameters are frozen, some are tied to earlier ones.
let private modules : Gen<StacPartition.NamedModule list * int> =
    gen {
        let! count = Gen.choose (1, 7)
        let mutable next = 0
        let! shapes = Gen.listOfLength count (Gen.listOf (Gen.zip (Gen.frequency [ 3, Gen.constant true; 1, Gen.constant false ]) (Gen.frequency [ 4, Gen.constant None; 1, Gen.choose (0, 20) |> Gen.map Some ])))
        let built =
            shapes |> List.mapi (fun i ps ->
                let own =
                    ps |> List.truncate 3 |> List.mapi (fun j (trainable, tie) ->
                        let identity =
                            match tie with
                            | Some k when next > 0 -> k % next
                            | _ -> let id = next in next <- next + 1; id
                        moduleParameter (sprintf "p%d" j) trainable identity)
                namedModule (if i = 0 then "" else sprintf "m%d" i) own)
        return built, next
    }

[<Fact>]
let ``Partition invariants: trunk then cap is every trainable parameter once, in first-owner order; the cap is the last min(N, L) layers`` () =
    Check.One(config 300, Prop.forAll (Arb.fromGen (Gen.zip modules (Gen.choose (0, 9)))) (fun ((ms, _), lastN) ->
        let trainableInOrder =
            ms |> List.collect (fun m -> m.OwnParameters |> List.filter (fun p -> p.RequiresGrad) |> List.map (fun p -> p.Identity)) |> List.distinct
        if List.isEmpty trainableInOrder then
            (try StacPartition.ofNamedModules lastN ms |> ignore; false with :? ArgumentException as e -> e.ParamName = "model")
        else
            let part = StacPartition.ofNamedModules lastN ms
            let layers = part.TrunkLayers @ part.CapLayers
            part.TrunkParameters @ part.CapParameters = trainableInOrder
            && part.CapLayers.Length = min lastN layers.Length
            && layers |> List.forall (fun l -> not l.Parameters.IsEmpty)
            && (match layers with
                | first :: _ when ms.Head.OwnParameters |> List.exists (fun p -> p.RequiresGrad) -> first.Name = "<root>"
                | _ -> layers |> List.forall (fun l -> l.Name <> "<root>"))))

[<Fact>]
let ``STAC's default policy skips the whole step on any non-finite gradient and changes nothing but the counter`` () =
    let gen =
        gen {
            let! (ms, count) = modules |> Gen.filter (fun (ms, _) -> ms |> List.exists (fun m -> m.OwnParameters |> List.exists (fun p -> p.RequiresGrad)))
            let! lastN = Gen.choose (0, 4)
            let! values = Gen.listOfLength count (Gen.listOfLength 2 spread)
            let! bad = Gen.choose (0, max 0 (count - 1))
            let! poison = Gen.elements [ nan; infinity; -infinity ]
            return ms, count, lastN, values, bad, poison
        }
    Check.One(config 200, Prop.forAll (Arb.fromGen gen) (fun (ms, _, lastN, values, bad, poison) ->
        let optimizer = Stac.create { Stac.defaults with LastNLayers = lastN; WeightDecay = 0.1 } ms
        let members = (optimizer.Partition.TrunkParameters @ optimizer.Partition.CapParameters) |> Set.ofList
        let start = values |> List.map vec
        let grads = values |> List.mapi (fun i v -> if not (members.Contains i) then None elif i = bad then Some(Dense(vec [ poison; 1.0 ])) else Some(Dense(vec v)))
        let p, s, skipped = Stac.step optimizer start grads (Stac.emptyState start.Length)
        let reachesOptimizer = members.Contains bad
        if reachesOptimizer then skipped && s.NonfiniteSkippedSteps = 1 && identical start p && s.Params |> List.forall Option.isNone
        else not skipped && s.NonfiniteSkippedSteps = 0))
