namespace Experiments.Analysis.Tests;

public sealed class PlaceholderTests
{
    [Fact]
    public void Project_builds() => Assert.True(true);
}
