namespace Optimizers.Reference

/// Placeholder compiled until the optimizers land.
module Library =
    let version = "0.1.0"
