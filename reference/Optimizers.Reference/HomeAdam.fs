namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra
open Optimizers.Reference.Moments

/// <summary>
/// HomeAdam (HomeAdam paper, Algorithm 2): one decision per parameter group and step between AdamSRF's adaptive
/// update and momentum SGD, from the smallest bias-corrected second moment. Box HA2 in paper-notes/homeadam.md.
/// </summary>
module HomeAdam =

    /// <summary>HomeAdam's options.</summary>
    type Options =
        {
            /// <summary>The options the family shares.</summary>
            Family: FamilyOptions
            /// <summary>τ [tau] &gt; 0 (NaN and +∞ are accepted, as upstream): adaptive iff min v̂ ≥ τ; default 1.</summary>
            Tau: float
            /// <summary>[capturable]: only changes the NaN corner (a NaN minimum gives SGDM instead of adaptive); default false.</summary>
            Capturable: bool
        }

    /// <summary>Upstream's defaults.</summary>
    let defaults : Options = { Family = familyDefaults; Tau = 1.0; Capturable = false }

    /// <summary>Validates in upstream's order: lr, betas, eps, weight_decay, tau, state_dtype.</summary>
    let validate (options: Options) : Options =
        validateLeadingOptions options.Family
        Validation.requirePositive "tau" options.Tau
        Validation.requireFloatingState "state_dtype" options.Family.StateDType
        options

    /// <summary>What a group decided in one step.</summary>
    type Decision =
        {
            /// <summary>Whether any parameter of the group had a gradient (otherwise nothing happened).</summary>
            Stepped: bool
            /// <summary>min over the group's stepped parameters and elements of v̂ (NaN if any is NaN).</summary>
            MinVHat: float
            /// <summary>Whether the group took the adaptive update (else momentum SGD).</summary>
            UseAdaptive: bool
        }

    /// <summary>[HA2.10] The decision rule, including the NaN corner: NaN &lt; τ is false (adaptive), NaN ≥ τ is false (SGDM).</summary>
    let decide (capturable: bool) (tau: float) (minVHat: float) : bool =
        if capturable then minVHat >= tau else not (minVHat < tau)

    /// <summary>Box HA2 for one parameter group.</summary>
    let stepGroup (options: Options) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list)
        : Vector<float> list * MomentState option list * Decision =
        let family = options.Family
        Gradients.rejectSparse "HomeAdam" grads                                          // [HA2.1]
        let collected = collect parameters grads states                                  // [HA2.2] [HA2.3]
        collected |> List.iteri (fun i c ->
            match c with
            | Some (theta: Vector<float>, _, _) when theta.Count = 0 ->
                invalidOp (sprintf "HomeAdam cannot take the minimum of v̂ over parameter %d of its group: it has no elements." i)
            | _ -> ())
        let advanced =
            collected |> List.map (Option.map (fun (theta, g, state) ->
                theta, advance family.Beta1 family.Beta2 state g))                       // [HA2.4] [HA2.5] [HA2.6] [HA2.7]
        let vHats = advanced |> List.map (Option.map (fun (_, state') -> biasCorrectedSecondMoment state')) // [HA2.8]
        let minVHat = vHats |> List.choose id |> Seq.collect (fun v -> v.Enumerate()) |> Elementwise.nanPropagatingMin // [HA2.9]
        let anyStepped = advanced |> List.exists Option.isSome
        let useAdaptive = decide options.Capturable options.Tau minVHat                  // [HA2.10]
        let stepped =
            List.map2 (fun a vHat ->
                match a, vHat with
                | Some (theta: Vector<float>, state': MomentState), Some (vHat: Vector<float>) ->
                    let u = if useAdaptive then state'.ExpAvg.PointwiseDivide(vHat + family.Eps) else state'.ExpAvg // [HA2.11]
                    let s = stepSize family.Lr state'                                    // [HA2.12]
                    let decayed = decoupledDecay family.Lr family.WeightDecay theta      // [HA2.13]
                    Some(decayed - s * u, state')                                        // [HA2.14]
                | _ -> None) advanced vHats
        let parameters' = List.map2 (fun theta r -> r |> Option.map fst |> Option.defaultValue theta) parameters stepped
        let states' = List.map2 (fun state r -> r |> Option.map (snd >> Some) |> Option.defaultValue state) states stepped
        parameters', states', { Stepped = anyStepped; MinVHat = (if anyStepped then minVHat else nan); UseAdaptive = anyStepped && useAdaptive }

    /// <summary>One optimizer step over every group (pure): the new parameters, states, and each group's decision.</summary>
    let step (groups: Group<Options> list) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list) =
        Groups.stepAll "HomeAdam" stepGroup groups parameters grads states
