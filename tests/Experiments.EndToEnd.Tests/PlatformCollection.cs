namespace Experiments.EndToEnd.Tests;

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<LaunchedPlatform>
{
    public const string Name = "launched platform";
}
