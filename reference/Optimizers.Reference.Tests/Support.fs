/// Small builders shared by the reference tests: vectors, single-group optimizers, and closeness.
module Optimizers.Reference.Tests.Support

open MathNet.Numerics.LinearAlgebra
open Xunit
open Optimizers.Reference

let vec (xs: float list) : Vector<float> = Vector<float>.Build.DenseOfArray(List.toArray xs)

let dense (xs: float list) : Gradient option = Some(Dense(vec xs))

let oneGroup (options: 'O) (count: int) : Group<'O> list = [ { Options = options; Members = List.init count id } ]

let family (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) : Moments.FamilyOptions =
    { Lr = lr; Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay; StateDType = None }

let homeAdam (f: Moments.FamilyOptions) (tau: float) : HomeAdam.Options = { Family = f; Tau = tau; Capturable = false }

let homeAdamEW (f: Moments.FamilyOptions) (tau: float) : HomeAdamEW.Options = { Family = f; Tau = tau; UpdateMode = HomeAdamEW.Denom }

/// Runs <paramref name="stepper"/> over a sequence of gradient lists from empty state; returns parameters and state.
let run (stepper: Vector<float> list -> Gradient option list -> 'S option list -> Vector<float> list * 'S option list)
        (initial: Vector<float> list) (gradients: Gradient option list list) =
    gradients |> List.fold (fun (p, s) g -> stepper p g s) (initial, List.replicate initial.Length None)

let adamSrfRun f (initial: Vector<float> list) gradients = run (fun p g s -> AdamSrf.step (oneGroup f initial.Length) p g s) initial gradients

let homeAdamRun o (initial: Vector<float> list) gradients = run (fun p g s -> let p', s', _ = HomeAdam.step (oneGroup o initial.Length) p g s in p', s') initial gradients

let homeAdamEWRun o (initial: Vector<float> list) gradients = run (fun p g s -> let p', s', _ = HomeAdamEW.step (oneGroup o initial.Length) p g s in p', s') initial gradients

let adamWRun (o: AdamW.Options) (initial: Vector<float> list) gradients =
    run (fun p g s -> let p', s', _ = Groups.stepAll "AdamW" (fun o p g s -> let a, b = AdamW.stepGroup o p g s in a, b, ()) (oneGroup o initial.Length) p g s in p', s') initial gradients

/// |expected − actual| ≤ tolerance for every element, with NaN matching NaN.
let assertClose (tolerance: float) (expected: float list) (actual: Vector<float>) =
    Assert.Equal(expected.Length, actual.Count)
    expected |> List.iteri (fun i e ->
        let a = actual[i]
        let ok = if System.Double.IsNaN e then System.Double.IsNaN a else abs (e - a) <= tolerance
        Assert.True(ok, sprintf "element %d: expected %.17g, actual %.17g (tolerance %g)" i e a tolerance))

/// Exact equality of two vectors, NaN matching NaN.
let assertIdentical (expected: Vector<float>) (actual: Vector<float>) =
    Assert.Equal(expected.Count, actual.Count)
    for i in 0 .. expected.Count - 1 do
        let e, a = expected[i], actual[i]
        Assert.True((System.Double.IsNaN e && System.Double.IsNaN a) || e = a, sprintf "element %d: %.17g vs %.17g" i e a)

/// The exception's ParamName must be the upstream argument.
let assertRejects (argument: string) (build: unit -> 'T) =
    let e = Assert.ThrowsAny<System.ArgumentException>(fun () -> build () |> ignore)
    Assert.Equal(argument, e.ParamName)
    e

/// The two vectors differ somewhere.
let assertDifferent (a: Vector<float>) (b: Vector<float>) =
    Assert.False(a.Equals(b), sprintf "expected different vectors, both are %A" (a.ToArray()))

/// Module-tree builders for STAC tests.
let moduleParameter (name: string) (trainable: bool) (identity: int) : StacPartition.ModuleParameter =
    { Name = name; RequiresGrad = trainable; Identity = identity }

let treeModule (name: string) (parameters: StacPartition.ModuleParameter list) (children: StacPartition.Module list) : StacPartition.Module =
    { Name = name; Parameters = parameters; Children = children }

let namedModule (qualifiedName: string) (parameters: StacPartition.ModuleParameter list) : StacPartition.NamedModule =
    { QualifiedName = qualifiedName; OwnParameters = parameters }
