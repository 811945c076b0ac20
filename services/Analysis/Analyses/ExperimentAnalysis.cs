using Experiments.Analysis.Queries;
using Experiments.Analysis.Snapshots;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics;
using Experiments.Statistics.Contracts;
using Google.Protobuf.WellKnownTypes;
using ProtoInterval = Experiments.Contracts.Analysis.V1.Interval;
using ProtoPropertyFilter = Experiments.Contracts.Analysis.V1.PropertyFilter;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;
using StatInterval = Experiments.Statistics.Contracts.Interval;

namespace Experiments.Analysis.Analyses;

/// <summary>What the caller asks for; null fields fall back to the experiment's saved settings.</summary>
public sealed record AnalysisOptions(
    double? ConfidenceLevel = null,
    TestKind? Test = null,
    string? Control = null,
    bool? Cuped = null,
    int? CupedWindowDays = null,
    CorrectionMethod? Correction = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Segment = null,
    IReadOnlyList<PropertyFilter>? Filters = null,
    string? GroupBy = null);

/// <summary>One metric's statistics result beside its definition (for snapshots and alerts).</summary>
public sealed record MetricStatistics(MetricDefinition Metric, AnalysisResult Result);

/// <summary>The full analysis: the response as the gRPC contract carries it, and the statistics behind it.</summary>
public sealed record AnalysisOutcome(ExperimentConfig Experiment, AnalyzeResponse Response, IReadOnlyList<MetricStatistics> Metrics, SrmResult Srm);

/// <summary>
/// Analyses an experiment: its metrics (primary, secondary, guardrail) from ClickHouse aggregates through the
/// statistics library, the filters of the filter card, data quality, Amplitude's badges, a recommendation,
/// chart series and diagnostics. Two ClickHouse queries run concurrently; none returns more than a row per
/// variant, group value and day.
/// </summary>
public sealed class ExperimentAnalysis(AnalysisQueries queries, AnalysisConfigReader config, SnapshotStore snapshots, TimeProvider time)
{
    public async Task<AnalysisOutcome> RunAsync(ExperimentConfig experiment, AnalysisOptions options, CancellationToken cancellationToken)
    {
        if (experiment.Variants.Count < 2)
        {
            throw new AnalysisNotPossibleException("The experiment needs at least two variants to be analyzed.");
        }
        var metrics = await config.MetricsAsync(experiment.Id, cancellationToken);
        if (metrics.Count == 0 && experiment.PrimaryMetricEventType is { } eventType)
        {
            metrics = [new MetricDefinition("primary", eventType, MetricRoles.Primary, MetricKinds.UniqueConversions, eventType, null, "increase", null, null)];
        }
        if (metrics.Count == 0)
        {
            throw new AnalysisNotPossibleException("The experiment has no primary metric to analyze.");
        }

        var saved = await config.SettingsAsync(experiment.Id, cancellationToken);
        var confidence = options.ConfidenceLevel ?? saved.ConfidenceLevel;
        var test = options.Test ?? (saved.Test == "ttest" ? TestKind.Ttest : TestKind.Sequential);
        var control = options.Control ?? saved.Control ?? experiment.Variants[0].Key;
        if (experiment.Variants.All(v => v.Key != control))
        {
            throw new AnalysisNotPossibleException($"control: '{control}' is not a variant of the experiment.");
        }
        var cuped = options.Cuped ?? saved.Cuped;
        var cupedWindowDays = options.CupedWindowDays ?? saved.CupedWindowDays;
        var correction = options.Correction ?? ParseCorrection(saved.Correction);

        var now = time.GetUtcNow();
        // Without an explicit range every exposure up to the end counts (SDKs may send exposures stamped before the
        // launch is recorded); "new users" are then measured against the experiment's start.
        var from = (options.From ?? DateTimeOffset.UnixEpoch).UtcDateTime;
        var newUsersSince = (options.From ?? experiment.StartedAt ?? DateTimeOffset.UnixEpoch).UtcDateTime;
        var to = (options.To ?? experiment.StoppedAt ?? now).UtcDateTime;
        if (to < from)
        {
            throw new AnalysisNotPossibleException("to: the date range ends before it starts.");
        }
        var segment = options.Segment ?? Segments.AllExposed;
        var filters = new List<PropertyFilter>(options.Filters ?? []);
        if (!Segments.BuiltIn.Contains(segment))
        {
            var custom = await config.SegmentAsync(experiment.ProjectId, segment, cancellationToken)
                ?? throw new AnalysisNotPossibleException($"segment: '{segment}' is neither a built-in segment ({string.Join(", ", Segments.BuiltIn)}) nor a saved segment of the project.");
            filters.AddRange(custom.Filters);
        }
        // Testers are the experiment's tester groups (user ids and device ids), matched against each user's unit.
        IReadOnlyList<string> testers = experiment.Testers.SelectMany(t => (t.UserIds ?? []).Concat(t.DeviceIds ?? [])).Distinct().ToList();
        var scope = new AnalysisScope(experiment.ProjectId, experiment.Key, from, to, segment, testers, filters, options.GroupBy) { NewUsersSince = newUsersSince, Variants = experiment.Variants.Select(v => v.Key).ToList() };
        var cupedWindow = cuped ? TimeSpan.FromDays(cupedWindowDays) : (TimeSpan?)null;
        var metricQueries = metrics.Select(m => new MetricQuery(m, cupedWindow)).ToList();

        var dataTask = queries.PopulationAndMetricsAsync(scope, metricQueries, cancellationToken);
        var historyTask = snapshots.HistoryAsync(experiment.Id, cancellationToken);
        await Task.WhenAll(dataTask, historyTask);
        var population = dataTask.Result.Population;
        var sums = dataTask.Result.Metrics;

        var settings = new Settings(confidence, test, control, correction, cupedWindow is not null);
        // Group values of the users the filters keep (a value whose users are all filtered out is not a group).
        var groups = options.GroupBy is null ? [""] : population.Where(p => p.Users > 0).Select(p => p.Group).Distinct().Order(StringComparer.Ordinal).ToList();
        var overall = Evaluate(experiment, metrics, settings, population, sums, group: null);

        var response = new AnalyzeResponse
        {
            ExperimentId = experiment.Id.ToString(),
            MetricEventType = metrics[0].EventType,
            Control = control,
            Test = test == TestKind.Ttest ? "ttest" : "sequential",
            ConfidenceLevel = confidence,
            ComputedAt = Timestamp.FromDateTimeOffset(now),
            Cuped = cupedWindow is not null,
            CupedWindowDays = cupedWindowDays,
            Correction = CorrectionName(correction),
            Srm = ToSrm(overall.Srm),
            Filters = new AppliedFilters
            {
                From = Timestamp.FromDateTime(from),
                To = Timestamp.FromDateTime(to),
                Segment = segment,
                GroupBy = options.GroupBy ?? "",
            },
        };
        response.Filters.Filters.AddRange(filters.Select(f => new ProtoPropertyFilter { Property = f.Property, Operator = f.Operator, Values = { f.Values } }));
        response.Metrics.AddRange(overall.Metrics);

        // The seed fields: the primary metric's variants and comparisons.
        var primary = overall.Metrics[0];
        response.Variants.AddRange(primary.Variants.Select(v => new VariantResult
        {
            Key = v.Key,
            Name = v.Name,
            Exposures = v.Exposures,
            Conversions = v.Conversions,
            Rate = v.Rate,
            ExpectedWeight = Weight(experiment, v.Key),
        }));
        response.Comparisons.AddRange(primary.Comparisons);

        AddAlwaysValid(response, historyTask.Result, confidence);
        response.DataQuality = DataQualityOf(population, overall);
        response.Summary = Summarize(response, overall, control);
        response.Recommendation = response.Summary.Recommendation;
        response.Winner = response.Summary.Winner;
        response.Charts = Charts.Build(experiment, response, dataTask.Result.DailyEvents, population, historyTask.Result, metrics[0].Key);
        response.Diagnostics = Charts.Diagnose(experiment, population, dataTask.Result.DailyAssignments);

        if (options.GroupBy is not null)
        {
            foreach (var group in groups)
            {
                var evaluated = Evaluate(experiment, metrics, settings, population, sums, group);
                var result = new GroupResult { Value = group, Exposures = population.Where(p => p.Group == group).Sum(p => p.Users), Srm = ToSrm(evaluated.Srm) };
                result.Metrics.AddRange(evaluated.Metrics);
                response.Groups.Add(result);
            }
        }
        return new AnalysisOutcome(experiment, response, overall.Statistics, overall.Srm);
    }

    private sealed record Settings(double ConfidenceLevel, TestKind Test, string Control, CorrectionMethod Correction, bool Cuped);

    private sealed record Evaluation(IReadOnlyList<MetricResult> Metrics, IReadOnlyList<MetricStatistics> Statistics, SrmResult Srm);

    /// <summary>Every metric for one group value (or all of them): statistics library over the summed rows.</summary>
    private static Evaluation Evaluate(
        ExperimentConfig experiment, IReadOnlyList<MetricDefinition> metrics, Settings settings,
        IReadOnlyList<PopulationRow> population, IReadOnlyList<MetricRow> sums, string? group)
    {
        var exposures = experiment.Variants.ToDictionary(v => v.Key, v => population
            .Where(p => p.Variant == v.Key && (group is null || p.Group == group)).Sum(p => p.Users));
        var results = new List<MetricResult>();
        var statistics = new List<MetricStatistics>();
        SrmResult? srm = null;
        for (var k = 0; k < metrics.Count; k++)
        {
            var metric = metrics[k];
            var binary = metric.Kind == MetricKinds.UniqueConversions;
            var variants = experiment.Variants.Select(v =>
            {
                var rows = sums.Where(s => s.Variant == v.Key && (group is null || s.Group == group)).Select(s => s.Metrics[k]).ToList();
                var users = metric.Kind == MetricKinds.PropertyAverage ? rows.Sum(r => r.Users) : exposures[v.Key];
                return (Variant: v, Users: users, NonZero: rows.Sum(r => r.NonZero), Sum: rows.Sum(r => r.Sum), SumSquares: rows.Sum(r => r.SumSquares),
                    X: rows.Sum(r => r.CovariateSum), Xx: rows.Sum(r => r.CovariateSumSquares), Xy: rows.Sum(r => r.SumProduct));
            }).ToList();

            var result = ExperimentAnalyzer.Analyze(new AnalysisRequest
            {
                MetricType = binary ? MetricType.Binary : MetricType.Continuous,
                Test = settings.Test,
                ConfidenceLevel = settings.ConfidenceLevel,
                Control = settings.Control,
                Correction = settings.Correction,
                Variants = variants.Select(v => new VariantStatistics
                {
                    Key = v.Variant.Key,
                    ExpectedWeight = v.Variant.TrafficWeight,
                    Users = v.Users,
                    Sum = v.Sum,
                    SumSquares = v.SumSquares,
                    Covariate = settings.Cuped ? new CovariateStatistics { Sum = v.X, SumSquares = v.Xx, SumProduct = v.Xy } : null,
                }).ToList(),
            });
            srm ??= metric.Kind == MetricKinds.PropertyAverage ? null : result.Srm;
            statistics.Add(new MetricStatistics(metric, result));

            var z = Statistics.Distributions.NormalDistribution.Quantile(1 - (1 - settings.ConfidenceLevel) / 2);
            var proto = new MetricResult
            {
                Key = metric.Key,
                Name = metric.Name,
                Role = metric.Role,
                Kind = metric.Kind,
                EventType = metric.EventType,
                Property = metric.Property ?? "",
                Direction = metric.Direction,
                ConversionWindowHours = metric.ConversionWindowHours ?? 0,
            };
            if (metric.Goal is { } goal)
            {
                proto.Goal = goal;
            }
            foreach (var v in variants)
            {
                var summary = result.Variants.FirstOrDefault(s => s.Key == v.Variant.Key);
                var mean = summary?.Mean ?? 0;
                var variance = summary?.Variance ?? 0;
                var half = v.Users > 1 ? z * Math.Sqrt(variance / v.Users) : 0;
                proto.Variants.Add(new MetricVariant
                {
                    Key = v.Variant.Key,
                    Name = v.Variant.Name,
                    Exposures = exposures[v.Variant.Key],
                    Conversions = v.NonZero,
                    Rate = exposures[v.Variant.Key] == 0 ? 0 : (double)v.NonZero / exposures[v.Variant.Key],
                    Users = v.Users,
                    Sum = v.Sum,
                    Mean = mean,
                    Variance = variance,
                    Ci = new ProtoInterval { Lower = mean - half, Upper = mean + half },
                });
            }
            foreach (var c in result.Comparisons)
            {
                var comparison = ToComparison(c);
                comparison.Badges.AddRange(Badges.For(c, metric, settings.ConfidenceLevel));
                proto.Comparisons.Add(comparison);
            }
            if (result.ProbabilityBest is { } best)
            {
                proto.ProbabilityBest.Add(best.ToDictionary(b => b.Key, b => b.Value));
            }
            results.Add(proto);
        }
        return new Evaluation(results, statistics, srm ?? statistics[0].Result.Srm);
    }

    /// <summary>A comparison of the statistics library as the contract's message (also for stored snapshots' comparisons).</summary>
    internal static Comparison ToComparison(ComparisonResult c)
    {
        var comparison = new Comparison
        {
            Variant = c.Variant,
            ControlMeanOrNull = c.ControlMean,
            MeanOrNull = c.Mean,
            AbsoluteLiftOrNull = c.AbsoluteLift,
            RelativeLiftOrNull = c.RelativeLift,
            Significant = c.Significant,
            CiAbsolute = ToInterval(c.CiAbsolute),
            CiRelative = ToInterval(c.CiRelative),
            GateReason = c.DataQualityReason ?? "",
        };
        if (c.PValue is { } p)
        {
            comparison.PValue = p;
        }
        if (c.MsprtLogLr is { } lr)
        {
            comparison.MsprtLogLr = lr;
        }
        if (c.AdjustedPValue is { } adjusted)
        {
            comparison.AdjustedPValue = adjusted;
        }
        if (c.CupedTheta is { } theta)
        {
            comparison.CupedTheta = theta;
        }
        if (c.DegreesOfFreedom is { } df)
        {
            comparison.DegreesOfFreedom = df;
        }
        return comparison;
    }

    /// <summary>The running minimum p-value and interval intersection over the daily snapshots and this analysis (sequential test).</summary>
    private static void AddAlwaysValid(AnalyzeResponse response, IReadOnlyList<Snapshot> history, double confidence)
    {
        if (response.Test != "sequential")
        {
            return;
        }
        foreach (var metric in response.Metrics)
        {
            foreach (var comparison in metric.Comparisons)
            {
                var past = history.Select(s => s.Comparison(metric.Key, comparison.Variant)).OfType<ComparisonResult>().ToList();
                past.Add(SnapshotStore.FromProto(comparison));
                var running = Statistics.Hypothesis.AlwaysValidAccumulator.Run(past, 1 - confidence)[^1];
                if (running.PValue is { } p)
                {
                    comparison.AlwaysValidPValue = p;
                    comparison.AlwaysValidCiAbsolute = ToInterval(running.CiAbsolute);
                }
            }
        }
    }

    private static DataQuality DataQualityOf(IReadOnlyList<PopulationRow> population, Evaluation overall)
    {
        var all = population.Sum(p => p.AllUsers);
        var jumpers = population.Sum(p => p.Jumpers);
        var anonymous = population.Sum(p => p.Anonymous);
        var withoutAssignment = population.Sum(p => p.WithoutAssignment);
        double Share(long count) => all == 0 ? 0 : (double)count / all;
        var quality = new DataQuality
        {
            Srm = ToSrm(overall.Srm),
            ExposedUsers = all,
            VariantJumpers = jumpers,
            VariantJumperShare = Share(jumpers),
            AnonymousExposures = anonymous,
            AnonymousShare = Share(anonymous),
            ExposuresWithoutAssignment = withoutAssignment,
            WithoutAssignmentShare = Share(withoutAssignment),
        };
        var gate = overall.Statistics[0].Result.Comparisons.FirstOrDefault(c => c.DataQualityReason is not null)?.DataQualityReason;
        quality.Checks.Add(new DataQualityCheck { Name = "sample_size", Passed = gate is null, Reason = gate ?? "Every variant compared has enough users (and conversions) for p-values and intervals." });
        quality.Checks.Add(new DataQualityCheck
        {
            Name = "srm",
            Passed = !overall.Srm.Detected,
            Reason = overall.Srm.Detected
                ? $"Sample ratio mismatch: the users per variant differ from the configured weights (chi-square p = {overall.Srm.PValue:G3} < 0.001)."
                : $"The users per variant match the configured weights (chi-square p = {overall.Srm.PValue:G3}).",
        });
        quality.Checks.Add(Threshold("variant_jumpers", Share(jumpers), 0.01, jumpers, "users were exposed to more than one variant"));
        quality.Checks.Add(Threshold("exposures_without_assignment", Share(withoutAssignment), 0.05, withoutAssignment, "exposed users have no assignment event"));
        quality.Checks.Add(Threshold("anonymous_exposures", Share(anonymous), 0.05, anonymous, "exposed users have no user id (device id only)"));
        quality.Passed = quality.Checks.All(c => c.Passed);
        return quality;
    }

    private static DataQualityCheck Threshold(string name, double share, double limit, long count, string what) => new()
    {
        Name = name,
        Passed = share <= limit,
        Reason = $"{count} {what} ({share:P2}; the check allows up to {limit:P0}).",
    };

    private static Summary Summarize(AnalyzeResponse response, Evaluation overall, string control)
    {
        var metric = response.Metrics[0];
        var definition = overall.Statistics[0].Metric;
        var better = (Comparison c) => definition.Direction == "decrease" ? -c.AbsoluteLift : c.AbsoluteLift;
        var best = metric.Comparisons.Where(c => c.Significant && better(c) > 0).OrderByDescending(better).FirstOrDefault()
            ?? metric.Comparisons.OrderByDescending(better).FirstOrDefault();
        var summary = new Summary { Metric = metric.Key, Significant = metric.Comparisons.Any(c => c.Significant) };
        if (best is not null)
        {
            summary.Badges.AddRange(best.Badges);
        }

        var guardrailHarm = response.Metrics.Skip(1).Where(m => m.Role == MetricRoles.Guardrail)
            .SelectMany(m => m.Comparisons.Where(c => Badges.Harms(c, overall.Statistics.First(s => s.Metric.Key == m.Key).Metric)).Select(c => $"'{c.Variant}' hurts guardrail '{m.Name}'"))
            .ToList();
        if (overall.Srm.Detected)
        {
            summary.Recommendation = "Sample ratio mismatch detected: the traffic split differs from the configured weights. Fix the assignment or exposure tracking before trusting these results.";
        }
        else if (metric.Comparisons.FirstOrDefault(c => c.GateReason.Length > 0) is { } gated)
        {
            summary.Recommendation = $"Not enough data yet: {gated.GateReason} Keep the experiment running.";
        }
        else if (best is { Significant: true } winner && better(winner) > 0)
        {
            summary.Winner = winner.Variant;
            var goal = winner.Badges.Contains(Badges.BelowGoal) ? " It beats the control but falls short of the goal, so weigh whether the gain is worth it."
                : winner.Badges.Contains(Badges.Inconclusive) ? " Whether it reaches the goal is not yet clear."
                : "";
            // Over a control mean of 0 there is no relative lift: the absolute one says by how much.
            var by = winner.RelativeLiftOrNull is { } relative ? $"{relative:P1}" : $"{winner.AbsoluteLift:G4} (absolute; the control's mean is 0)";
            summary.Recommendation = guardrailHarm.Count > 0
                ? $"'{winner.Variant}' beats '{control}' on '{metric.Name}' by {by}, but {string.Join("; ", guardrailHarm)}: review before rolling out."
                : $"'{winner.Variant}' beats '{control}' on '{metric.Name}' by {by} with statistical significance: roll it out.{goal}";
        }
        else if (metric.Comparisons.Any(c => c.Significant))
        {
            summary.Winner = control;
            summary.Recommendation = $"Every significant difference on '{metric.Name}' favours '{control}': keep the control and roll the treatments back.";
        }
        else
        {
            summary.Recommendation = "No significant difference yet: keep the experiment running, or stop it if the possible effect is too small to matter.";
        }
        return summary;
    }

    private static double Weight(ExperimentConfig experiment, string key)
        => experiment.Variants.First(v => v.Key == key).TrafficWeight / experiment.Variants.Sum(v => v.TrafficWeight);

    internal static Srm ToSrm(SrmResult srm) => new() { ChiSquare = srm.ChiSquare ?? double.PositiveInfinity, PValue = srm.PValue, Detected = srm.Detected };

    internal static ProtoInterval? ToInterval(StatInterval? interval) => interval is { } i
        ? new ProtoInterval { Lower = i.Lower ?? double.NegativeInfinity, Upper = i.Upper ?? double.PositiveInfinity }
        : null;

    public static CorrectionMethod ParseCorrection(string? name) => name switch
    {
        null or "" or "none" => CorrectionMethod.None,
        "bonferroni" => CorrectionMethod.Bonferroni,
        "holm" => CorrectionMethod.Holm,
        "benjamini_hochberg" => CorrectionMethod.BenjaminiHochberg,
        _ => throw new AnalysisNotPossibleException($"correction: '{name}' must be none, bonferroni, holm or benjamini_hochberg."),
    };

    private static string CorrectionName(CorrectionMethod method) => method switch
    {
        CorrectionMethod.Bonferroni => "bonferroni",
        CorrectionMethod.Holm => "holm",
        CorrectionMethod.BenjaminiHochberg => "benjamini_hochberg",
        _ => "none",
    };
}

/// <summary>The experiment can't be analyzed as configured (answered as FAILED_PRECONDITION).</summary>
public sealed class AnalysisNotPossibleException(string message) : Exception(message);
