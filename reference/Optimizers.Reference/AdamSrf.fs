namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra
open Optimizers.Reference.Moments

/// <summary>AdamSRF (HomeAdam paper, Algorithm 1): Adam(W) without the square root, always adaptive. Box A1 in paper-notes/homeadam.md.</summary>
module AdamSrf =

    /// <summary>Validates AdamSRF's options in upstream's order (lr, betas, eps, weight_decay, state_dtype).</summary>
    let validate (options: FamilyOptions) : FamilyOptions =
        validateLeadingOptions options
        Validation.requireFloatingState "state_dtype" options.StateDType
        options

    /// <summary>Box A1 for one parameter group. Parameters without a gradient keep their value and state untouched.</summary>
    let stepGroup (options: FamilyOptions) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list)
        : Vector<float> list * MomentState option list * unit =
        Gradients.rejectSparse "AdamSRF" grads                                           // [A1.1]
        let stepped =
            collect parameters grads states                                              // [A1.2] [A1.3]
            |> List.map (Option.map (fun (theta, g, state) ->
                let state' = advance options.Beta1 options.Beta2 state g                 // [A1.4] [A1.5] [A1.6] [A1.7]
                let vHat = biasCorrectedSecondMoment state'                              // [A1.8]
                let u = state'.ExpAvg.PointwiseDivide(vHat + options.Eps)                // [A1.9]
                let s = stepSize options.Lr state'                                       // [A1.10]
                let decayed = decoupledDecay options.Lr options.WeightDecay theta        // [A1.11]
                decayed - s * u, state'))                                                // [A1.12]
        let parameters' = List.map2 (fun theta r -> r |> Option.map fst |> Option.defaultValue theta) parameters stepped
        let states' = List.map2 (fun state r -> r |> Option.map (snd >> Some) |> Option.defaultValue state) states stepped
        parameters', states', ()

    /// <summary>One optimizer step over every group (pure): returns the new parameters and states.</summary>
    let step (groups: Group<FamilyOptions> list) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list) =
        let p, s, _ = Groups.stepAll "AdamSRF" stepGroup groups parameters grads states
        p, s
