using Experiments.Expctl.Cli;
using Experiments.Statistics;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Planning;
using Experiments.Statistics.Validation;

namespace Experiments.Expctl.Stats;

/// <summary><c>expctl stats</c>: the statistics library on JSON, offline.</summary>
public static class StatsCommands
{
    public static CommandGroup Create() => new(
        "stats",
        "Run the platform's statistics offline on JSON requests (STATISTICS.md).",
        [new AnalyzeCommand(), new SampleSizeCommand()]);
}

public sealed class AnalyzeCommand : LeafCommand
{
    public override string Name => "analyze";

    public override string Summary => "Analyse per-variant sufficient statistics: lifts, p-values, intervals, SRM, probability best.";

    protected override string Description => """
        Analyse one metric of an experiment from per-variant sufficient statistics.

        Reads one request object, or an array of them, from standard input or --input FILE, and writes
        the result object (or an array in the same order). Request fields: metric_type (binary |
        continuous), test (sequential | ttest; default sequential), confidence_level (default 0.95),
        control, variants[] {key, expected_weight, users, sum, sum_squares, covariate {sum,
        sum_squares, sum_product}}, srm_threshold (default 0.001), tau or sequential_tuning
        (default 5000), direction (any | increase | decrease), correction (none | bonferroni | holm |
        benjamini_hochberg), min_traffic_weight (default 0.01).
        A malformed request gets {"error": {...}} in its slot, a message naming the field on stderr,
        and exit code 1; the other requests still get their results.
        """;

    protected override IReadOnlyList<OptionSpec> Options => JsonBatch.Options;

    protected override int Run(CommandContext context, ParsedOptions options, string path) =>
        JsonBatch.Run<AnalysisRequest, AnalysisResult>(context, options, path, AnalysisRequestValidator.Validate, ExperimentAnalyzer.Analyze);
}

public sealed class SampleSizeCommand : LeafCommand
{
    public override string Name => "sample-size";

    public override string Summary => "Users per variant (and days at a daily traffic) to detect a relative change of a rate.";

    protected override string Description => """
        Users per variant needed to detect a relative change of a binary metric's rate.

        Reads {baseline_rate, relative_mde, confidence_level (default 0.95), power (default 0.8)},
        or an array of them, and writes {users_per_variant}. With daily_users (users per day across
        all variants; variant_count defaults to 2) it also writes total_users and days.
        """;

    protected override IReadOnlyList<OptionSpec> Options => JsonBatch.Options;

    protected override int Run(CommandContext context, ParsedOptions options, string path) =>
        JsonBatch.Run<SampleSizeRequest, SampleSizeResult>(context, options, path, SampleSizeRequestValidator.Validate, SampleSizeCalculator.Calculate);
}
