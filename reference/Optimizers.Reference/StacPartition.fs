namespace Optimizers.Reference

/// <summary>
/// STAC's split of a model into a sign-momentum trunk and an AdamW cap, computed over a module tree.
/// Box SP in paper-notes/stac.md.
/// </summary>
module StacPartition =

    /// <summary>A parameter registered directly on a module.</summary>
    type ModuleParameter =
        {
            /// <summary>The name it is registered under on its module (for example <c>weight</c>).</summary>
            Name: string
            /// <summary>False for a frozen parameter, which STAC never sees.</summary>
            RequiresGrad: bool
            /// <summary>The tensor's identity: its index in the optimizer-wide parameter list. Tied parameters share it.</summary>
            Identity: int
        }

    /// <summary>A module of the tree with the parameters it owns directly (not its children's).</summary>
    type Module =
        {
            /// <summary>Its local name under its parent (ignored for the root).</summary>
            Name: string
            /// <summary>Its own parameters, in registration order.</summary>
            Parameters: ModuleParameter list
            /// <summary>Its child modules, in registration order.</summary>
            Children: Module list
        }

    /// <summary>A module as torch's <c>named_modules()</c> yields it: qualified name ("" for the root) and own parameters.</summary>
    type NamedModule = { QualifiedName: string; OwnParameters: ModuleParameter list }

    /// <summary>
    /// The modules of a tree in registration order, depth first, root first (torch's <c>named_modules()</c>).
    /// torch visits a module registered twice only once; listing it twice here changes no partition, because every
    /// parameter it (or a child) owns is already claimed by its first visit ([SP.3]).
    /// </summary>
    let namedModules (root: Module) : NamedModule list =
        let rec walk prefix (m: Module) =
            { QualifiedName = prefix; OwnParameters = m.Parameters }
            :: (m.Children |> List.collect (fun child -> walk (if prefix = "" then child.Name else prefix + "." + child.Name) child))
        walk "" root

    /// <summary>One trainable "layer": a module that owns at least one trainable parameter not claimed by an earlier module.</summary>
    type Layer =
        {
            /// <summary>Module path, or <c>&lt;root&gt;</c> for the root's own parameters.</summary>
            Name: string
            /// <summary>Fully qualified parameter names, in registration order.</summary>
            ParameterNames: string list
            /// <summary>The parameters' identities, in the same order.</summary>
            Parameters: int list
        }

    /// <summary>The trunk/cap split.</summary>
    type Partition =
        {
            /// <summary>Layers updated by the sign-momentum trunk, in order.</summary>
            TrunkLayers: Layer list
            /// <summary>Layers updated by the AdamW cap, in order.</summary>
            CapLayers: Layer list
        }
        /// <summary>Trunk layer names.</summary>
        member this.TrunkLayerNames = this.TrunkLayers |> List.map _.Name
        /// <summary>Cap layer names.</summary>
        member this.CapLayerNames = this.CapLayers |> List.map _.Name
        /// <summary>Trunk parameters (identities), layer by layer.</summary>
        member this.TrunkParameters = this.TrunkLayers |> List.collect _.Parameters
        /// <summary>Cap parameters (identities), layer by layer.</summary>
        member this.CapParameters = this.CapLayers |> List.collect _.Parameters
        /// <summary>Trunk parameter names, layer by layer.</summary>
        member this.TrunkParameterNames = this.TrunkLayers |> List.collect _.ParameterNames
        /// <summary>Cap parameter names, layer by layer.</summary>
        member this.CapParameterNames = this.CapLayers |> List.collect _.ParameterNames

    /// <summary>
    /// Box SP over modules already in <c>named_modules()</c> order. Raises <c>ArgumentOutOfRangeException</c>
    /// (<c>last_n_layers</c>) for a negative count and <c>ArgumentException</c> (<c>model</c>) when nothing is trainable.
    /// </summary>
    let ofNamedModules (lastNLayers: int) (modules: NamedModule list) : Partition =
        if lastNLayers < 0 then                                                          // [SP.1]
            raise (System.ArgumentOutOfRangeException("last_n_layers", lastNLayers, "last_n_layers must be greater than or equal to 0."))
        let layers, _claimed =
            modules                                                                      // [SP.2]
            |> List.fold (fun (layers, claimed: Set<int>) m ->
                let own, claimed' =
                    m.OwnParameters
                    |> List.fold (fun (own, claimed: Set<int>) p ->
                        if not p.RequiresGrad || claimed.Contains p.Identity then own, claimed // [SP.3]
                        else own @ [ p ], claimed.Add p.Identity) ([], claimed)          // [SP.3]
                if List.isEmpty own then layers, claimed'
                else
                    let qualified (p: ModuleParameter) = if m.QualifiedName = "" then p.Name else m.QualifiedName + "." + p.Name
                    let layer =
                        { Name = (if m.QualifiedName = "" then "<root>" else m.QualifiedName) // [SP.4]
                          ParameterNames = own |> List.map qualified
                          Parameters = own |> List.map _.Identity }
                    layers @ [ layer ], claimed') ([], Set.empty)
        if List.isEmpty layers then                                                      // [SP.5]
            raise (System.ArgumentException("STAC requires at least one trainable parameter (every parameter of the model is frozen).", "model"))
        let trunkCount = max (List.length layers - lastNLayers) 0                        // [SP.6]
        { TrunkLayers = List.take trunkCount layers; CapLayers = List.skip trunkCount layers } // [SP.6]

    /// <summary>Box SP over a module tree.</summary>
    let ofTree (lastNLayers: int) (root: Module) : Partition = ofNamedModules lastNLayers (namedModules root)
