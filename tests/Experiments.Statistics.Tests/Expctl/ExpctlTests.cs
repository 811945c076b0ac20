using System.Text.Json;
using Experiments.Expctl;
using Experiments.Statistics.Tests.Reference;

namespace Experiments.Statistics.Tests.Expctl;

/// <summary>The real <c>expctl</c> entry point, run in-process with its streams captured.</summary>
public sealed class ExpctlTests
{
    private static (int ExitCode, string Output, string Error) Run(string input, params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = Program.Run(arguments, new StringReader(input), output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string ReferenceRequests(string section) =>
        JsonSerializer.Serialize(ReferenceCases.Root.GetProperty(section).EnumerateArray().Select(c => c.GetProperty("request")));

    [Fact]
    public void Stats_analyze_reproduces_every_reference_case_from_one_array_on_stdin()
    {
        var (exitCode, output, error) = Run(ReferenceRequests("analyze"), "stats", "analyze");

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        var results = JsonDocument.Parse(output).RootElement;
        var comparer = ToleranceComparer.FromReference();
        var cases = ReferenceCases.Analyze.ToList();
        Assert.Equal(cases.Count, results.GetArrayLength());
        for (var i = 0; i < cases.Count; i++)
        {
            var mismatches = comparer.Compare(cases[i].GetProperty("expected"), results[i]);
            Assert.True(mismatches.Count == 0, $"{cases[i].GetProperty("name")}:\n{string.Join('\n', mismatches)}");
        }
    }

    [Fact]
    public void Stats_analyze_reads_a_single_request_from_a_file_and_prints_a_single_result()
    {
        var reference = ReferenceCases.Analyze.First();
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, reference.GetProperty("request").GetRawText());
            var (exitCode, output, _) = Run("", "stats", "analyze", "--input", file);

            Assert.Equal(0, exitCode);
            var result = JsonDocument.Parse(output).RootElement;
            Assert.Equal(JsonValueKind.Object, result.ValueKind);
            Assert.Empty(ToleranceComparer.FromReference().Compare(reference.GetProperty("expected"), result));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Stats_sample_size_reproduces_the_reference_and_adds_days_at_a_daily_traffic()
    {
        var (exitCode, output, _) = Run(ReferenceRequests("sample_size"), "stats", "sample-size", "--compact");
        Assert.Equal(0, exitCode);
        var results = JsonDocument.Parse(output).RootElement;
        var cases = ReferenceCases.SampleSize.ToList();
        for (var i = 0; i < cases.Count; i++)
        {
            Assert.Equal(cases[i].GetProperty("expected").GetProperty("users_per_variant").GetInt64(), results[i].GetProperty("users_per_variant").GetInt64());
        }

        var (_, withDays, _) = Run("""{"baseline_rate": 0.1, "relative_mde": 0.05, "daily_users": 1000}""", "stats", "sample-size");
        var days = JsonDocument.Parse(withDays).RootElement;
        Assert.Equal(57763, days.GetProperty("users_per_variant").GetInt64());
        Assert.Equal(116, days.GetProperty("days").GetInt64());
    }

    [Fact]
    public void Malformed_requests_get_an_error_slot_naming_the_field_while_valid_ones_still_get_results()
    {
        var valid = ReferenceCases.Analyze.First().GetProperty("request").GetRawText();
        var impossible = valid.Replace("\"sum_squares\": 3239.0", "\"sum_squares\": 10.0", StringComparison.Ordinal)
            .Replace("\"sum_squares\":3239.0", "\"sum_squares\":10.0", StringComparison.Ordinal);
        Assert.NotEqual(valid, impossible);
        var unknownControl = valid.Replace("\"control\": \"control\"", "\"control\": \"nobody\"", StringComparison.Ordinal)
            .Replace("\"control\":\"control\"", "\"control\":\"nobody\"", StringComparison.Ordinal);
        var missingUsers = """{"metric_type": "binary", "control": "a", "variants": [{"key": "a", "sum": 1, "sum_squares": 1}, {"key": "b", "users": 5, "sum": 1, "sum_squares": 1}]}""";

        var (exitCode, output, error) = Run($"[{valid}, {impossible}, {unknownControl}, {missingUsers}]", "stats", "analyze");

        Assert.Equal(1, exitCode);
        var results = JsonDocument.Parse(output).RootElement;
        Assert.True(results[0].TryGetProperty("comparisons", out _));
        Assert.Contains("variants[1].sum_squares", results[1].GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("control", results[2].GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("variants[0].users", results[3].GetProperty("error").GetProperty("message").GetString());
        Assert.Contains("request [1]: variants[1].sum_squares: impossible", error);
        Assert.Contains("request [2]: control: 'nobody' is not the key of any variant", error);
    }

    [Theory]
    [InlineData("""{"metric_type": "binary", "control": "a", "variants": [{"key": "a", "users": -3, "sum": 0, "sum_squares": 0}, {"key": "b", "users": 5, "sum": 1, "sum_squares": 1}]}""", "variants[0].users")]
    [InlineData("""{"metric_type": "binary", "control": "a", "variants": [{"key": "a", "expected_weight": 0, "users": 3, "sum": 0, "sum_squares": 0}, {"key": "b", "expected_weight": 0, "users": 5, "sum": 1, "sum_squares": 1}]}""", "expected_weight")]
    [InlineData("""{"metric_type": "ratio", "control": "a", "variants": []}""", "metric_type")]
    [InlineData("""{"metric_type": "binary", "control": "a", "variants": [{"key": "a", "users": "many"}]}""", "variants[0].users")]
    [InlineData("""{"metric_type": "binary", "tua": 1}""", "tua")]
    [InlineData("""{"metric_type": "binary", """, "malformed JSON")]
    public void Malformed_input_exits_non_zero_and_names_the_problem(string input, string named)
    {
        var (exitCode, output, error) = Run(input, "stats", "analyze");

        Assert.NotEqual(0, exitCode);
        Assert.Contains(named, error);
        Assert.Contains(named, JsonDocument.Parse(output).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("stats", "--help")]
    [InlineData("stats", "analyze", "--help")]
    [InlineData("stats", "sample-size", "-h")]
    public void Every_command_answers_help(params string[] arguments)
    {
        var (exitCode, output, _) = Run("", arguments);
        Assert.Equal(0, exitCode);
        Assert.Contains("Usage: expctl", output);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("stats", "bogus")]
    [InlineData("stats", "analyze", "--bogus")]
    [InlineData("stats", "analyze", "--input")]
    public void Unknown_commands_and_options_are_usage_errors(params string[] arguments)
    {
        var (exitCode, _, error) = Run("", arguments);
        Assert.Equal(2, exitCode);
        Assert.Contains("--help", error);
    }
}
