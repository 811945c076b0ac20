using Experiments.Gateway.Console.Formatting;

namespace Experiments.Gateway.Tests;

/// <summary>The console's filter values field: commas separate values, double quotes keep a value's commas.</summary>
public sealed class FilterValuesTests
{
    [Theory]
    [InlineData("US, CA", new[] { "US", "CA" })]
    [InlineData(" US ,, CA , ", new[] { "US", "CA" })]
    [InlineData("US, \"Paris, France\"", new[] { "US", "Paris, France" })]
    [InlineData("\" padded \", x", new[] { " padded ", "x" })]
    [InlineData("\"say \"\"hi\"\"\"", new[] { "say \"hi\"" })]
    [InlineData("5\" screen, 10", new[] { "5\" screen", "10" })]
    [InlineData("", new string[0])]
    [InlineData("  ", new string[0])]
    public void Values_are_split_on_commas_outside_double_quotes(string text, string[] expected)
        => Assert.Equal(expected, FilterValues.Parse(text));
}
