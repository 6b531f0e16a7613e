module Optimizers.Reference.Tests.SmokeTests

open Xunit

[<Fact>]
let ``the reference assembly loads`` () =
    Assert.Equal("0.1.0", Optimizers.Reference.Library.version)
