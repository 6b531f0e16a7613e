namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra
open Optimizers.Reference.Moments

/// <summary>
/// HomeAdamEW (HomeAdam paper, Algorithm 3): the adaptive-or-SGDM decision made per element, v̂_j ≥ τ.
/// Box EW3 in paper-notes/homeadam.md.
/// </summary>
module HomeAdamEW =

    /// <summary>How the per-element choice is written; both give the same numbers.</summary>
    type UpdateMode =
        /// <summary>[update_mode="denom"] (default): divide m by v̂ + ε where adaptive and by 1 elsewhere.</summary>
        | Denom
        /// <summary>[update_mode="where_update"]: compute m / (v̂ + ε) everywhere, keep it where adaptive, m elsewhere.</summary>
        | WhereUpdate

    /// <summary>Parses upstream's spelling; anything else is rejected naming <c>update_mode</c>.</summary>
    let parseUpdateMode (text: string) : UpdateMode =
        match text with
        | "denom" -> Denom
        | "where_update" -> WhereUpdate
        | other -> raise (System.ArgumentException(sprintf "Invalid update_mode: %s (expected \"denom\" or \"where_update\")." other, "update_mode"))

    /// <summary>HomeAdamEW's options.</summary>
    type Options =
        {
            /// <summary>The options the family shares.</summary>
            Family: FamilyOptions
            /// <summary>τ [tau] &gt; 0 (NaN and +∞ accepted, as upstream): element j is adaptive iff v̂_j ≥ τ; default 1.</summary>
            Tau: float
            /// <summary>[update_mode]; default <see cref="UpdateMode.Denom"/>.</summary>
            UpdateMode: UpdateMode
        }

    /// <summary>Upstream's defaults.</summary>
    let defaults : Options = { Family = familyDefaults; Tau = 1.0; UpdateMode = Denom }

    /// <summary>Validates in upstream's order: lr, betas, eps, weight_decay, tau, state_dtype (update_mode is checked when parsed).</summary>
    let validate (options: Options) : Options =
        validateLeadingOptions options.Family
        Validation.requirePositive "tau" options.Tau
        Validation.requireFloatingState "state_dtype" options.Family.StateDType
        options

    /// <summary>Box EW3 for one parameter group. Reports, per group member, the adaptive mask (None if no gradient).</summary>
    let stepGroup (options: Options) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list)
        : Vector<float> list * MomentState option list * bool[] option list =
        let family = options.Family
        Gradients.rejectSparse "HomeAdamEW" grads                                        // [EW3.1]
        let stepped =
            collect parameters grads states                                              // [EW3.2] [EW3.3]
            |> List.map (Option.map (fun (theta, g, state) ->
                let state' = advance family.Beta1 family.Beta2 state g                   // [EW3.4] [EW3.5] [EW3.6] [EW3.7]
                let vHat = biasCorrectedSecondMoment state'                              // [EW3.8]
                let m = state'.ExpAvg
                let adaptive = Array.init vHat.Count (fun j -> vHat[j] >= options.Tau)   // [EW3.9]
                let u =
                    match options.UpdateMode with
                    | Denom ->
                        let denom = Elementwise.vector vHat.Count (fun j -> if adaptive[j] then vHat[j] + family.Eps else 1.0) // [EW3.10]
                        m.PointwiseDivide(denom)                                         // [EW3.10]
                    | WhereUpdate ->
                        let everywhere = m.PointwiseDivide(vHat + family.Eps)            // [EW3.11]
                        Elementwise.vector vHat.Count (fun j -> if adaptive[j] then everywhere[j] else m[j]) // [EW3.11]
                let s = stepSize family.Lr state'                                        // [EW3.12]
                let decayed = decoupledDecay family.Lr family.WeightDecay theta          // [EW3.13]
                decayed - s * u, state', adaptive))                                      // [EW3.14]
        let parameters' = List.map2 (fun theta r -> r |> Option.map (fun (p, _, _) -> p) |> Option.defaultValue theta) parameters stepped
        let states' = List.map2 (fun state r -> r |> Option.map (fun (_, s, _) -> Some s) |> Option.defaultValue state) states stepped
        parameters', states', stepped |> List.map (Option.map (fun (_, _, mask) -> mask))

    /// <summary>One optimizer step over every group (pure): the new parameters, states, and adaptive masks per group.</summary>
    let step (groups: Group<Options> list) (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list) =
        Groups.stepAll "HomeAdamEW" stepGroup groups parameters grads states
