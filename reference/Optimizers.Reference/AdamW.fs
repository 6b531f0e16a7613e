namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra

/// <summary>
/// torch 1.13's AdamW (single-tensor, non-capturable), the baseline and STAC's cap.
/// Box AW in paper-notes/homeadam.md; every line of the step carries its tag.
/// </summary>
module AdamW =

    /// <summary>AdamW's options (torch names in brackets).</summary>
    type Options =
        {
            /// <summary>η [lr], ≥ 0 and not NaN; default 1e-3.</summary>
            Lr: float
            /// <summary>β1 [betas[0]], in [0, 1); default 0.9.</summary>
            Beta1: float
            /// <summary>β2 [betas[1]], in [0, 1); default 0.999.</summary>
            Beta2: float
            /// <summary>ε [eps], ≥ 0 and not NaN, added after the bias-corrected square root; default 1e-8.</summary>
            Eps: float
            /// <summary>λ [weight_decay], ≥ 0 and not NaN, decoupled; default 1e-2.</summary>
            WeightDecay: float
            /// <summary>[amsgrad]: divide by the running maximum of v instead of v; default false.</summary>
            Amsgrad: bool
            /// <summary>[maximize]: ascend instead of descend; default false.</summary>
            Maximize: bool
        }

    /// <summary>torch 1.13's defaults.</summary>
    let defaults : Options =
        { Lr = 1e-3; Beta1 = 0.9; Beta2 = 0.999; Eps = 1e-8; WeightDecay = 1e-2; Amsgrad = false; Maximize = false }

    /// <summary>
    /// Validates as torch 1.13 does, in its order: lr, eps, betas[0], betas[1], weight_decay (each `not 0 &lt;= x`,
    /// so NaN is rejected too). Raises <c>ArgumentOutOfRangeException</c> whose ParamName is the torch argument.
    /// </summary>
    let validate (options: Options) : Options =
        Validation.requireZeroOrMore "lr" "learning rate" options.Lr
        Validation.requireZeroOrMore "eps" "epsilon value" options.Eps
        Validation.requireUnitInterval "betas" "beta parameter at index 0" options.Beta1
        Validation.requireUnitInterval "betas" "beta parameter at index 1" options.Beta2
        Validation.requireZeroOrMore "weight_decay" "weight_decay value" options.WeightDecay
        options

    /// <summary>One parameter's state in torch's vocabulary.</summary>
    type ParamState =
        {
            /// <summary>torch <c>step</c> (a float tensor upstream; an integer count here).</summary>
            Step: int
            /// <summary>torch <c>exp_avg</c>: m.</summary>
            ExpAvg: Vector<float>
            /// <summary>torch <c>exp_avg_sq</c>: v.</summary>
            ExpAvgSq: Vector<float>
            /// <summary>torch <c>max_exp_avg_sq</c>: the running maximum of v, present only when AMSGrad was on when the state was created.</summary>
            MaxExpAvgSq: Vector<float> option
        }

    /// <summary>[AW.3] Fresh state, created on the parameter's first gradient.</summary>
    let fresh (options: Options) (length: int) : ParamState =
        { Step = 0
          ExpAvg = Vector<float>.Build.Dense(length)
          ExpAvgSq = Vector<float>.Build.Dense(length)
          MaxExpAvgSq = if options.Amsgrad then Some(Vector<float>.Build.Dense(length)) else None }

    /// <summary>Box AW for one parameter that has a dense gradient: lines [AW.2]-[AW.11].</summary>
    let stepParameter (options: Options) (theta: Vector<float>) (gradient: Vector<float>) (state: ParamState option) : Vector<float> * ParamState =
        let g = if options.Maximize then -gradient else gradient                       // [AW.2]
        let s = state |> Option.defaultWith (fun () -> fresh options theta.Count)       // [AW.3]
        let t = s.Step + 1                                                              // [AW.4]
        let decayed = theta * (1.0 - options.Lr * options.WeightDecay)                  // [AW.5]
        let m = options.Beta1 * s.ExpAvg + (1.0 - options.Beta1) * g                    // [AW.6]
        let v = options.Beta2 * s.ExpAvgSq + (1.0 - options.Beta2) * g.PointwiseMultiply(g) // [AW.7]
        let biasCorrection1 = 1.0 - options.Beta1 ** float t                            // [AW.8]
        let biasCorrection2 = 1.0 - options.Beta2 ** float t                            // [AW.8]
        let maxV =                                                                       // [AW.9]
            if options.Amsgrad then
                match s.MaxExpAvgSq with
                | Some previous -> Some(previous.Map2((fun a b -> if System.Double.IsNaN a || System.Double.IsNaN b then nan else max a b), v))
                | None -> invalidOp "amsgrad was switched on after this parameter's state was created (torch raises KeyError 'max_exp_avg_sq')."
            else s.MaxExpAvgSq
        let source = if options.Amsgrad then maxV.Value else v                          // [AW.9]
        let denom = source.PointwiseSqrt() / sqrt biasCorrection2 + options.Eps         // [AW.10]
        let theta' = decayed - (options.Lr / biasCorrection1) * m.PointwiseDivide(denom) // [AW.11]
        theta', { Step = t; ExpAvg = m; ExpAvgSq = v; MaxExpAvgSq = maxV }

    /// <summary>
    /// One step of one group: [AW.1] parameters without a gradient are skipped entirely; a sparse gradient is rejected
    /// (NotSupportedException) before anything changes.
    /// </summary>
    let stepGroup (options: Options) (parameters: Vector<float> list) (grads: Gradient option list) (states: ParamState option list)
        : Vector<float> list * ParamState option list =
        Gradients.requireShapes parameters grads
        Gradients.rejectSparse "AdamW" grads                                            // [AW.1]
        List.zip3 parameters grads states
        |> List.mapi (fun i (theta, grad, state) ->
            match grad with
            | None -> theta, state                                                      // [AW.1]
            | Some g ->
                let theta', state' = stepParameter options theta (Gradients.denseOrReject "AdamW" i g) state
                theta', Some state')
        |> List.unzip
