namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra

/// The formulas the HomeAdam family shares (paper-notes/homeadam.md, lines [HF.1]-[HF.5]); each is named after what it computes.
module Moments =

    /// <summary>State of one parameter in the HomeAdam family, in upstream's vocabulary.</summary>
    type MomentState =
        {
            /// <summary>Upstream <c>step</c>: steps this parameter has taken (it had a gradient).</summary>
            Step: int
            /// <summary>Upstream <c>exp_avg</c>: m, the first-moment EMA.</summary>
            ExpAvg: Vector<float>
            /// <summary>Upstream <c>exp_avg_sq</c>: v, the second-moment EMA.</summary>
            ExpAvgSq: Vector<float>
            /// <summary>Upstream <c>beta1_power</c>: P1 = β1^step as a running product.</summary>
            Beta1Power: float
            /// <summary>Upstream <c>beta2_power</c>: P2 = β2^step as a running product.</summary>
            Beta2Power: float
        }

    /// <summary>[HF.1] Fresh state: zero moments, running products 1, step 0.</summary>
    let fresh (length: int) : MomentState =
        { Step = 0; ExpAvg = Vector<float>.Build.Dense(length); ExpAvgSq = Vector<float>.Build.Dense(length); Beta1Power = 1.0; Beta2Power = 1.0 }

    /// <summary>[HF.2] m ← β1·m + (1 − β1)·g.</summary>
    let exponentialAverage (beta: float) (average: Vector<float>) (g: Vector<float>) : Vector<float> =
        beta * average + (1.0 - beta) * g

    /// <summary>[HF.3] v ← β2·v + (1 − β2)·g⊙g.</summary>
    let exponentialAverageOfSquares (beta: float) (average: Vector<float>) (g: Vector<float>) : Vector<float> =
        beta * average + (1.0 - beta) * g.PointwiseMultiply(g)

    /// <summary>[HF.1]-[HF.4] One moment update: m, v, the running products P1 ← P1·β1, P2 ← P2·β2, and step + 1.</summary>
    let advance (beta1: float) (beta2: float) (state: MomentState) (g: Vector<float>) : MomentState =
        { Step = state.Step + 1                                          // [HF.4]
          ExpAvg = exponentialAverage beta1 state.ExpAvg g               // [HF.2]
          ExpAvgSq = exponentialAverageOfSquares beta2 state.ExpAvgSq g  // [HF.3]
          Beta1Power = state.Beta1Power * beta1                          // [HF.4]
          Beta2Power = state.Beta2Power * beta2 }                        // [HF.4]

    /// <summary>[HF.5] v̂ = v / (1 − P2): the bias-corrected second moment.</summary>
    let biasCorrectedSecondMoment (state: MomentState) : Vector<float> =
        state.ExpAvgSq / (1.0 - state.Beta2Power)

    /// <summary>[HF.6] s = η / (1 − P1): the step size that turns m into η·m̂.</summary>
    let stepSize (lr: float) (state: MomentState) : float = lr / (1.0 - state.Beta1Power)

    /// <summary>[HF.7] θ ← θ·(1 − ηλ) when λ ≠ 0 (decoupled decay, before the update).</summary>
    let decoupledDecay (lr: float) (weightDecay: float) (theta: Vector<float>) : Vector<float> =
        if weightDecay <> 0.0 then theta * (1.0 - lr * weightDecay) else theta

    /// <summary>Options every member of the HomeAdam family shares (upstream names in brackets).</summary>
    type FamilyOptions =
        {
            /// <summary>η [lr]: learning rate, ≥ 0 (NaN is accepted, as upstream); default 1e-3.</summary>
            Lr: float
            /// <summary>β1 [betas[0]] in [0, 1); default 0.9.</summary>
            Beta1: float
            /// <summary>β2 [betas[1]] in [0, 1); default 0.99.</summary>
            Beta2: float
            /// <summary>ε [eps] ≥ 0, added to v̂ (no square root anywhere); default 1e-7.</summary>
            Eps: float
            /// <summary>λ [weight_decay] ≥ 0, decoupled; default 0.</summary>
            WeightDecay: float
            /// <summary>[state_dtype]: <c>None</c> follows the parameter; default float32. The reference computes in float64 regardless.</summary>
            StateDType: StateDType option
        }

    /// <summary>Upstream's defaults (note β2 = 0.99 and ε = 1e-7).</summary>
    let familyDefaults : FamilyOptions =
        { Lr = 1e-3; Beta1 = 0.9; Beta2 = 0.99; Eps = 1e-7; WeightDecay = 0.0; StateDType = Some Float32 }

    /// <summary>Upstream's first five checks, in its order: lr, beta1, beta2, eps, weight_decay.</summary>
    let validateLeadingOptions (options: FamilyOptions) : unit =
        Validation.requireNotNegative "lr" "learning rate" options.Lr
        Validation.requireUnitInterval "betas" "beta1" options.Beta1
        Validation.requireUnitInterval "betas" "beta2" options.Beta2
        Validation.requireNotNegative "eps" "epsilon" options.Eps
        Validation.requireNotNegative "weight_decay" "weight_decay" options.WeightDecay

    /// <summary>
    /// The parameters of a group that have a dense gradient this step, with their current (or fresh, [HF.1]) state;
    /// None for a parameter without a gradient, which the step must leave untouched. Sparse gradients must have
    /// been rejected before.
    /// </summary>
    let collect (parameters: Vector<float> list) (grads: Gradient option list) (states: MomentState option list) =
        List.zip3 parameters grads states
        |> List.map (fun (theta, grad, state) ->
            match grad with
            | Some (Dense g) -> Some(theta, g, state |> Option.defaultWith (fun () -> fresh theta.Count))
            | Some (SparseCoo _) -> invalidOp "sparse gradients must be rejected before collect."
            | None -> None)
