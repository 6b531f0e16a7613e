namespace Optimizers.Reference

open MathNet.Numerics.LinearAlgebra

/// <summary>
/// Element type of an optimizer's state, as upstream names it. The reference computes in float64 whatever this says;
/// the value is kept so that constructors accept and validate exactly what upstream accepts.
/// </summary>
type StateDType =
    /// <summary>IEEE binary64.</summary>
    | Float64
    /// <summary>IEEE binary32 (upstream HomeAdam's default state dtype).</summary>
    | Float32
    /// <summary>bfloat16.</summary>
    | BFloat16
    /// <summary>IEEE binary16.</summary>
    | Float16
    /// <summary>A torch dtype that is not floating point (for example <c>int32</c>); constructors reject it.</summary>
    | NonFloating of name: string

/// <summary>A parameter's gradient for one step.</summary>
type Gradient =
    /// <summary>A dense gradient, shaped (flat) like its parameter.</summary>
    | Dense of Vector<float>
    /// <summary>A sparse COO gradient (flat indices and values). Every optimizer here rejects it; it exists so the rejection can be expressed.</summary>
    | SparseCoo of indices: int[] * values: float[]

/// <summary>Parameter groups: which parameters (by index) share one set of options.</summary>
/// <typeparam name="'Options">The optimizer's options record.</typeparam>
type Group<'Options> =
    {
        /// <summary>The group's options (upstream's per-group hyperparameters).</summary>
        Options: 'Options
        /// <summary>Indices of the group's parameters in the optimizer-wide parameter list, in group order.</summary>
        Members: int list
    }

/// Small helpers shared by every step: picking the parameters that have a gradient and rejecting sparse ones up front.
module Gradients =

    /// <summary>The dense gradient, or <c>NotSupportedException</c> naming the parameter and the optimizer.</summary>
    let denseOrReject (optimizer: string) (parameterIndex: int) (gradient: Gradient) : Vector<float> =
        match gradient with
        | Dense g -> g
        | SparseCoo _ ->
            raise (System.NotSupportedException(sprintf "%s does not support sparse gradients (parameter %d has a sparse gradient)." optimizer parameterIndex))

    /// <summary>
    /// Rejects any sparse gradient among <paramref name="grads"/> before anything changes (upstream raises part-way
    /// through a step; the reference is atomic on purpose, see paper-notes/deviations.md).
    /// </summary>
    let rejectSparse (optimizer: string) (grads: Gradient option list) : unit =
        grads |> List.iteri (fun i g -> g |> Option.iter (denseOrReject optimizer i >> ignore))

    /// <summary>Checks that every dense gradient has its parameter's length.</summary>
    let requireShapes (parameters: Vector<float> list) (grads: Gradient option list) : unit =
        if List.length parameters <> List.length grads then
            invalidArg "grads" (sprintf "expected one gradient slot per parameter (%d), got %d." (List.length parameters) (List.length grads))
        List.zip parameters grads
        |> List.iteri (fun i (p, g) ->
            match g with
            | Some (Dense d) when d.Count <> p.Count ->
                invalidArg "grads" (sprintf "gradient of parameter %d has %d elements, the parameter has %d." i d.Count p.Count)
            | _ -> ())

/// Elementwise operations with torch's semantics where IEEE leaves a choice.
module Elementwise =

    /// <summary>torch.sign: -1, 0 or +1, with sign(±0) = 0 and sign(NaN) = 0.</summary>
    let sign (x: float) : float = if x > 0.0 then 1.0 elif x < 0.0 then -1.0 else 0.0

    /// <summary>The minimum of a sequence, NaN as soon as one element is NaN (torch.amin / torch.minimum).</summary>
    let nanPropagatingMin (xs: float seq) : float =
        xs |> Seq.fold (fun acc x -> if System.Double.IsNaN acc || System.Double.IsNaN x then nan else min acc x) infinity

    /// <summary>Builds a vector of length <paramref name="n"/> from an element function.</summary>
    let vector (n: int) (element: int -> float) : Vector<float> =
        Vector<float>.Build.DenseOfArray(Array.init n element)

/// Running a per-group step over an optimizer's groups.
module Groups =

    /// <summary>
    /// Steps every group in order with <paramref name="stepGroup"/>, which sees only the group's own parameters,
    /// gradients and states. Sparse gradients anywhere are rejected before any group changes (atomic).
    /// Returns the new parameters, the new states and each group's report (for example HomeAdam's decision).
    /// </summary>
    let stepAll
        (optimizer: string)
        (stepGroup: 'Options -> Vector<float> list -> Gradient option list -> 'State option list -> Vector<float> list * 'State option list * 'Report)
        (groups: Group<'Options> list)
        (parameters: Vector<float> list)
        (grads: Gradient option list)
        (states: 'State option list)
        : Vector<float> list * 'State option list * 'Report list =
        Gradients.requireShapes parameters grads
        if List.length states <> List.length parameters then
            invalidArg "states" "expected one state slot per parameter."
        Gradients.rejectSparse optimizer grads
        let ps = List.toArray parameters
        let ss = List.toArray states
        let gs = List.toArray grads
        let reports =
            groups
            |> List.map (fun group ->
                let members = group.Members
                let p', s', report =
                    stepGroup group.Options (members |> List.map (fun i -> ps[i])) (members |> List.map (fun i -> gs[i])) (members |> List.map (fun i -> ss[i]))
                List.iter2 (fun i p -> ps[i] <- p) members p'
                List.iter2 (fun i s -> ss[i] <- s) members s'
                report)
        List.ofArray ps, List.ofArray ss, reports
