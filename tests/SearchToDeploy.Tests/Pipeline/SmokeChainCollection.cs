namespace SearchToDeploy.Tests.Pipeline;

/// <summary>The pipeline test classes share one smoke chain (<see cref="SmokeChainFixture"/>) and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SmokeChainCollection : ICollectionFixture<SmokeChainFixture>
{
    public const string Name = "smoke chain";
}
