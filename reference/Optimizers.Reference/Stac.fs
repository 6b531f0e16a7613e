namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra

/// <summary>
/// STAC (stac-optimizer 0.1.2's trunk/cap API plus 0.1.4's <c>trunk_state_dtype</c>): sign of a momentum EMA on the
/// trunk, torch 1.13's AdamW on the cap (the last N trainable layers). Boxes ST and SR in paper-notes/stac.md.
/// </summary>
module Stac =

    /// <summary>What a step does when a dense gradient holds NaN or ±∞.</summary>
    type NonFinitePolicy =
        /// <summary>0.1.2 with <c>error_if_nonfinite=False</c>: step anyway; non-finite values flow into the update.</summary>
        | Propagate
        /// <summary>0.1.3 and later with <c>error_if_nonfinite=False</c> (the default): skip the whole step and count it.</summary>
        | Skip
        /// <summary><c>error_if_nonfinite=True</c>: raise before anything changes.</summary>
        | Throw

    /// <summary>STAC's constructor options (upstream names in brackets).</summary>
    type Options =
        {
            /// <summary>η [lr] ≥ 0 (NaN accepted, as upstream): the base learning rate; default 1e-3.</summary>
            Lr: float
            /// <summary>[trunk_lr] ≥ 0; default None = 0.75·lr when trunk and cap are both non-empty, else lr.</summary>
            TrunkLr: float option
            /// <summary>[cap_lr] ≥ 0; default None = lr.</summary>
            CapLr: float option
            /// <summary>N [last_n_layers] ≥ 0: how many final trainable layers form the cap; default 1.</summary>
            LastNLayers: int
            /// <summary>μ [trunk_momentum] in [0, 1): EMA factor before the sign; 0 = plain signSGD; default 0.9.</summary>
            TrunkMomentum: float
            /// <summary>[trunk_state_dtype] (0.1.4): the momentum buffer's dtype; None follows the parameter. Accepted and validated; the reference computes in float64.</summary>
            TrunkStateDType: StateDType option
            /// <summary>β1 [betas[0]] in [0, 1) (cap); default 0.9.</summary>
            Beta1: float
            /// <summary>β2 [betas[1]] in [0, 1) (cap); default 0.999.</summary>
            Beta2: float
            /// <summary>ε [eps] ≥ 0 (cap); default 1e-8.</summary>
            Eps: float
            /// <summary>λ [weight_decay] ≥ 0: shared decoupled decay; default 0.</summary>
            WeightDecay: float
            /// <summary>[trunk_weight_decay] ≥ 0; default None = weight_decay.</summary>
            TrunkWeightDecay: float option
            /// <summary>[cap_weight_decay] ≥ 0; default None = weight_decay.</summary>
            CapWeightDecay: float option
            /// <summary>[amsgrad] for the cap; default false.</summary>
            Amsgrad: bool
            /// <summary>[maximize] for both roles; default false.</summary>
            Maximize: bool
            /// <summary>Non-finite gradients: <see cref="Skip"/> by default ([error_if_nonfinite]=True is <see cref="Throw"/>).</summary>
            NonFinite: NonFinitePolicy
        }

    /// <summary>Upstream's defaults (0.1.3+ non-finite behaviour).</summary>
    let defaults : Options =
        { Lr = 1e-3; TrunkLr = None; CapLr = None; LastNLayers = 1; TrunkMomentum = 0.9; TrunkStateDType = None
          Beta1 = 0.9; Beta2 = 0.999; Eps = 1e-8; WeightDecay = 0.0; TrunkWeightDecay = None; CapWeightDecay = None
          Amsgrad = false; Maximize = false; NonFinite = Skip }

    /// <summary>The trunk's resolved group.</summary>
    type TrunkGroup =
        {
            /// <summary>Parameter identities in group order.</summary>
            Members: int list
            /// <summary>η_T, resolved by [SR.1].</summary>
            Lr: float
            /// <summary>λ_T, resolved by [SR.3].</summary>
            WeightDecay: float
            /// <summary>μ.</summary>
            Momentum: float
        }

    /// <summary>A constructed STAC optimizer: its options, partition and resolved groups (trunk first, then cap).</summary>
    type Optimizer =
        {
            /// <summary>The options it was built with.</summary>
            Options: Options
            /// <summary>The trunk/cap split.</summary>
            Partition: StacPartition.Partition
            /// <summary>The trunk group, when the trunk is non-empty.</summary>
            Trunk: TrunkGroup option
            /// <summary>The cap group (AdamW options with η_C and λ_C), when the cap is non-empty.</summary>
            Cap: Group<AdamW.Options> option
        }

    /// <summary>
    /// Validates and builds, in 0.1.4's order: lr, eps, weight_decay, betas[0], betas[1], trunk_momentum,
    /// trunk_state_dtype, the partition (last_n_layers, a trainable parameter), then the resolved trunk_lr, cap_lr,
    /// trunk_weight_decay, cap_weight_decay. Every error names the upstream argument.
    /// </summary>
    let create (options: Options) (modules: StacPartition.NamedModule list) : Optimizer =
        Validation.requireNotNegative "lr" "lr" options.Lr
        Validation.requireNotNegative "eps" "eps" options.Eps
        Validation.requireNotNegative "weight_decay" "weight_decay" options.WeightDecay
        Validation.requireUnitInterval "betas" "beta parameter at index 0" options.Beta1
        Validation.requireUnitInterval "betas" "beta parameter at index 1" options.Beta2
        Validation.requireUnitInterval "trunk_momentum" "trunk_momentum value" options.TrunkMomentum
        Validation.requireFloatingState "trunk_state_dtype" options.TrunkStateDType
        let partition = StacPartition.ofNamedModules options.LastNLayers modules
        let hybrid = not (List.isEmpty partition.TrunkLayers) && not (List.isEmpty partition.CapLayers)
        let trunkLr = options.TrunkLr |> Option.defaultValue (if hybrid then 0.75 * options.Lr else options.Lr) // [SR.1]
        let capLr = options.CapLr |> Option.defaultValue options.Lr                      // [SR.2]
        let trunkWeightDecay = options.TrunkWeightDecay |> Option.defaultValue options.WeightDecay // [SR.3]
        let capWeightDecay = options.CapWeightDecay |> Option.defaultValue options.WeightDecay     // [SR.3]
        Validation.requireNotNegative "trunk_lr" "trunk_lr" trunkLr
        Validation.requireNotNegative "cap_lr" "cap_lr" capLr
        Validation.requireNotNegative "trunk_weight_decay" "trunk_weight_decay" trunkWeightDecay
        Validation.requireNotNegative "cap_weight_decay" "cap_weight_decay" capWeightDecay
        { Options = options
          Partition = partition
          Trunk =
            if List.isEmpty partition.TrunkLayers then None
            else Some { Members = partition.TrunkParameters; Lr = trunkLr; WeightDecay = trunkWeightDecay; Momentum = options.TrunkMomentum }
          Cap =
            if List.isEmpty partition.CapLayers then None
            else
                Some { Members = partition.CapParameters
                       Options =
                         { Lr = capLr; Beta1 = options.Beta1; Beta2 = options.Beta2; Eps = options.Eps; WeightDecay = capWeightDecay
                           Amsgrad = options.Amsgrad; Maximize = options.Maximize } } }

    /// <summary>One parameter's state, in upstream's vocabulary.</summary>
    type ParamState =
        /// <summary>Trunk, μ ≠ 0: upstream <c>trunk_momentum_buffer</c>.</summary>
        | TrunkMomentumBuffer of Vector<float>
        /// <summary>Cap: torch AdamW's <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>[, <c>max_exp_avg_sq</c>].</summary>
        | CapState of AdamW.ParamState

    /// <summary>The optimizer's state: per parameter (None until its first gradient; trunk with μ = 0 never has any) and the skip counter.</summary>
    type State =
        {
            /// <summary>Per parameter identity.</summary>
            Params: ParamState option list
            /// <summary>Upstream <c>nonfinite_skipped_steps</c>: steps skipped under <see cref="Skip"/>.</summary>
            NonfiniteSkippedSteps: int
        }

    /// <summary>Empty state for <paramref name="count"/> parameters.</summary>
    let emptyState (count: int) : State = { Params = List.replicate count None; NonfiniteSkippedSteps = 0 }

    /// <summary>Box ST, trunk lines [ST.4]-[ST.8], for one parameter with a dense gradient.</summary>
    let stepTrunkParameter (maximize: bool) (group: TrunkGroup) (theta: Vector<float>) (gradient: Vector<float>) (buffer: Vector<float> option)
        : Vector<float> * Vector<float> option =
        let u = if maximize then -gradient else gradient                                 // [ST.4]
        let decayed = if group.WeightDecay <> 0.0 then theta * (1.0 - group.Lr * group.WeightDecay) else theta // [ST.5]
        let direction, buffer' =
            if group.Momentum <> 0.0 then
                let b = buffer |> Option.defaultWith (fun () -> Vector<float>.Build.Dense(theta.Count)) // [ST.6]
                let b' = group.Momentum * b + (1.0 - group.Momentum) * u                 // [ST.6]
                b'.Map(Elementwise.sign), Some b'                                        // [ST.6]
            else u.Map(Elementwise.sign), buffer                                         // [ST.7]
        decayed - group.Lr * direction, buffer'                                          // [ST.8]

    let private isFinite (v: Vector<float>) = v.Enumerate() |> Seq.forall System.Double.IsFinite

    /// <summary>
    /// One step (pure). Returns the new parameters, the new state, and whether the step was skipped.
    /// [ST.1] non-finite gradients are handled by the policy before anything changes; [ST.2] a sparse gradient is
    /// rejected (NotSupportedException) before anything changes. Parameters outside both groups (frozen) and
    /// parameters without a gradient are untouched.
    /// </summary>
    let step (optimizer: Optimizer) (parameters: Vector<float> list) (grads: Gradient option list) (state: State)
        : Vector<float> list * State * bool =
        Gradients.requireShapes parameters grads
        let gs = List.toArray grads
        let roles =
            [ match optimizer.Trunk with Some t -> yield "trunk", t.Members | None -> ()
              match optimizer.Cap with Some c -> yield "cap", c.Members | None -> () ]
        let nonFinite =                                                                  // [ST.1]
            roles |> List.tryPick (fun (role, members) ->
                members |> List.tryPick (fun i ->
                    match gs[i] with
                    | Some (Dense g) when not (isFinite g) -> Some(role, i)
                    | _ -> None))
        match nonFinite, optimizer.Options.NonFinite with
        | Some (role, i), Throw ->                                                       // [ST.1]
            raise (System.InvalidOperationException(sprintf "Encountered non-finite gradients in the STAC %s (parameter %d)." role i))
        | Some _, Skip ->                                                                // [ST.1]
            parameters, { state with NonfiniteSkippedSteps = state.NonfiniteSkippedSteps + 1 }, true
        | _ ->
            for role, members in roles do                                                // [ST.2]
                for i in members do
                    match gs[i] with
                    | Some (SparseCoo _) ->
                        let who = if role = "trunk" then "STAC" else "AdamW cap"
                        raise (System.NotSupportedException(sprintf "%s does not support sparse gradients (parameter %d)." who i))
                    | _ -> ()
            let ps = List.toArray parameters
            let ss = List.toArray state.Params
            match optimizer.Trunk with                                                   // [ST.3]
            | Some trunk ->
                for i in trunk.Members do
                    match gs[i] with
                    | Some (Dense g) ->
                        let buffer = match ss[i] with Some (TrunkMomentumBuffer b) -> Some b | _ -> None
                        let theta', buffer' = stepTrunkParameter optimizer.Options.Maximize trunk ps[i] g buffer
                        ps[i] <- theta'
                        ss[i] <- buffer' |> Option.map TrunkMomentumBuffer
                    | _ -> ()
            | None -> ()
            match optimizer.Cap with                                                     // [ST.9]
            | Some cap ->
                for i in cap.Members do
                    match gs[i] with
                    | Some (Dense g) ->
                        let previous = match ss[i] with Some (CapState s) -> Some s | _ -> None
                        let theta', s' = AdamW.stepParameter cap.Options ps[i] g previous
                        ps[i] <- theta'
                        ss[i] <- Some(CapState s')
                    | _ -> ()
            | None -> ()
            List.ofArray ps, { state with Params = List.ofArray ss }, false
