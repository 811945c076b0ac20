using Experiments.ClickHouse;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;

namespace Experiments.Analysis.Tests.Support;

public sealed record SyntheticEvent(string Type, DateTime Time, double Value, string InsertId);

/// <summary>A user the assignment service assigned who was never exposed (assigned, then never reached the feature).</summary>
public sealed record AssignedOnlyUser(string UserId, string DeviceId, string Variant, DateTime Assigned, List<SyntheticEvent> Events);

public sealed record SyntheticUser(
    string UserId, string DeviceId, string Variant, DateTime FirstExposure, bool Jumper, string Country, string Platform, string Os,
    bool Assigned, bool Tester, bool SeenBefore, List<SyntheticEvent> Events)
{
    public string Unit => UserId.Length > 0 ? UserId : DeviceId;
}

/// <summary>
/// Known synthetic users of one experiment (true effects, variant jumpers, anonymous users, testers, users
/// without assignment, duplicated inserts), written straight into ClickHouse; the expected sufficient statistics
/// are computed here from the same users, independently of the SQL.
/// </summary>
public sealed class SyntheticExperiment
{
    public static readonly DateTime Start = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);
    public static readonly DateTime End = Start.AddDays(14);

    public required string ProjectId { get; init; }
    public required string FlagKey { get; init; }
    public List<SyntheticUser> Users { get; } = [];
    public List<AssignedOnlyUser> AssignedOnly { get; } = [];

    /// <summary>Users per variant with a conversion rate each; the treatment also spends more.</summary>
    public static SyntheticExperiment Generate(string projectId, string flagKey, int seed, params (string Variant, int Users, double Rate, double Revenue)[] arms)
    {
        var random = new Random(seed);
        var experiment = new SyntheticExperiment { ProjectId = projectId, FlagKey = flagKey };
        var countries = new[] { "DE", "FR", "US" };
        var n = 0;
        foreach (var (variant, users, rate, revenue) in arms)
        {
            for (var i = 0; i < users; i++, n++)
            {
                var anonymous = random.NextDouble() < 0.02;
                var userId = anonymous ? "" : $"{flagKey}-u{n}";
                var first = Start.AddDays(random.Next(0, 10)).AddSeconds(random.Next(0, 86_000));
                var platform = random.NextDouble() < 0.6 ? "Web" : "iOS";
                var os = platform == "Web" ? (random.NextDouble() < 0.5 ? "iOS" : "Windows") : "iOS";
                var events = new List<SyntheticEvent>();
                var seenBefore = random.NextDouble() < 0.1;
                if (seenBefore)
                {
                    events.Add(new("session_start", Start.AddDays(-3), 0, Guid.NewGuid().ToString()));
                }
                if (random.NextDouble() < 0.2)
                {
                    // Before exposure: only the CUPED covariate sees it.
                    events.Add(new("purchase", first.AddHours(-random.Next(1, 24 * 6)), Math.Round(10 + random.NextDouble() * 40, 2), Guid.NewGuid().ToString()));
                }
                if (random.NextDouble() < rate)
                {
                    var purchases = 1 + random.Next(0, 3);
                    for (var p = 0; p < purchases; p++)
                    {
                        events.Add(new("purchase", first.AddMinutes(random.Next(0, 72 * 60)), Math.Round(revenue + random.NextDouble() * 50, 2), Guid.NewGuid().ToString()));
                    }
                }
                var views = random.Next(0, 6);
                for (var v = 0; v < views; v++)
                {
                    events.Add(new("page_view", first.AddMinutes(random.Next(0, 5 * 24 * 60)), 0, Guid.NewGuid().ToString()));
                }
                experiment.Users.Add(new SyntheticUser(userId, $"{flagKey}-d{n}", variant, first, random.NextDouble() < 0.03,
                    countries[random.Next(countries.Length)], platform, os, random.NextDouble() < 0.97, random.NextDouble() < 0.02, seenBefore, events));
            }
        }
        // A tenth as many users again were assigned but never exposed; some of them buy (none of it may count).
        var others = new Random(seed + 1);
        foreach (var (variant, users, _, revenue) in arms)
        {
            for (var i = 0; i < users / 10; i++, n++)
            {
                var assigned = Start.AddDays(others.Next(0, 10)).AddSeconds(others.Next(0, 86_000));
                var events = others.NextDouble() < 0.3 ? new List<SyntheticEvent> { new("purchase", assigned.AddHours(1), revenue, Guid.NewGuid().ToString()) } : [];
                experiment.AssignedOnly.Add(new AssignedOnlyUser($"{flagKey}-u{n}", $"{flagKey}-d{n}", variant, assigned, events));
            }
        }
        return experiment;
    }

    /// <summary>What the assignment service recorded: the assigned exposed users (5 s before their first exposure) and the assigned-only ones.</summary>
    public IReadOnlyList<(string UserId, string DeviceId, string Variant, DateTime Time)> Assignments =>
        Users.Where(u => u.Assigned).Select(u => (u.UserId, u.DeviceId, u.Variant, u.FirstExposure.AddSeconds(-5)))
            .Concat(AssignedOnly.Select(u => (u.UserId, u.DeviceId, u.Variant, u.Assigned))).ToList();

    public IReadOnlyList<string> Testers => Users.Where(u => u.Tester).Select(u => u.Unit).ToList();

    public async Task WriteAsync(ClickHouseClient clickHouse)
    {
        var variants = Users.Select(u => u.Variant).Distinct().ToList();
        var exposures = new List<(SyntheticUser User, string Variant, DateTime Time, string InsertId)>();
        foreach (var (user, index) in Users.Select((u, i) => (u, i)))
        {
            exposures.Add((user, user.Variant, user.FirstExposure, $"x{index}"));
            exposures.Add((user, user.Variant, user.FirstExposure.AddHours(2), $"x{index}b"));
            if (user.Jumper && variants.FirstOrDefault(v => v != user.Variant) is { } other)
            {
                exposures.Add((user, other, user.FirstExposure.AddHours(1), $"x{index}j"));
            }
            if (index % 20 == 0)
            {
                exposures.Add((user, user.Variant, user.FirstExposure, $"x{index}")); // a duplicated insert
            }
        }
        await clickHouse.InsertAsync("exposures",
            ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"],
            exposures, (w, e) =>
            {
                w.WriteString(ProjectId); w.WriteString(FlagKey); w.WriteString(e.Variant); w.WriteString(e.User.UserId); w.WriteString(e.User.DeviceId);
                w.WriteDateTime(e.Time); w.WriteString(e.InsertId); w.WriteString($"{{\"country\":\"{e.User.Country}\"}}");
                w.WriteString(e.User.Platform); w.WriteString(e.User.Os); w.WriteDateTime(e.Time);
            });

        var events = Users.SelectMany(u => u.Events.Select(e => (u.UserId, u.DeviceId, u.Platform, u.Os, Event: e)))
            .Concat(AssignedOnly.SelectMany(u => u.Events.Select(e => (u.UserId, u.DeviceId, Platform: "Web", Os: "Windows", Event: e)))).ToList();
        events.AddRange(events.Where((_, i) => i % 25 == 0).ToList()); // duplicated inserts
        await clickHouse.InsertAsync("events",
            ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"],
            events, (w, e) =>
            {
                w.WriteString(ProjectId); w.WriteString(e.Event.Type); w.WriteString(e.UserId); w.WriteString(e.DeviceId);
                w.WriteDateTime(e.Event.Time); w.WriteString(e.Event.InsertId);
                w.WriteString(FormattableString.Invariant($"{{\"revenue\":{e.Event.Value}}}"));
                w.WriteString("{}"); w.WriteString(e.Platform); w.WriteString(e.Os); w.WriteDateTime(e.Event.Time);
            });

        await clickHouse.InsertAsync("assignments",
            ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "received_at"],
            Assignments.Concat(Assignments.Where((_, i) => i % 30 == 0)).ToList(), (w, a) => // with resent records
            {
                w.WriteString(ProjectId); w.WriteString(FlagKey); w.WriteString(a.Variant); w.WriteString(a.UserId); w.WriteString(a.DeviceId);
                w.WriteDateTime(a.Time); w.WriteString($"a-{a.UserId}-{a.DeviceId}"); w.WriteDateTime(a.Time);
            });
    }

    /// <summary>Per-user value of a metric (null: the user is not counted, averages without events).</summary>
    public static double? Value(SyntheticUser user, MetricDefinition metric, DateTime to)
    {
        var after = user.Events.Where(e => e.Type == metric.EventType && e.Time >= user.FirstExposure && e.Time <= to
            && (metric.ConversionWindowHours is not { } h || e.Time <= user.FirstExposure.AddHours(h))).ToList();
        return metric.Kind switch
        {
            MetricKinds.UniqueConversions => after.Count > 0 ? 1 : 0,
            MetricKinds.EventTotals => after.Count,
            MetricKinds.PropertySum => after.Sum(e => e.Value),
            _ => after.Count > 0 ? after.Sum(e => e.Value) / after.Count : null,
        };
    }

    /// <summary>CUPED covariate: the same reduction over the window before first exposure.</summary>
    public static double Covariate(SyntheticUser user, MetricDefinition metric, TimeSpan window)
    {
        var before = user.Events.Where(e => e.Type == metric.EventType && e.Time < user.FirstExposure && e.Time >= user.FirstExposure - window).ToList();
        return metric.Kind switch
        {
            MetricKinds.UniqueConversions => before.Count > 0 ? 1 : 0,
            MetricKinds.EventTotals => before.Count,
            MetricKinds.PropertySum => before.Sum(e => e.Value),
            _ => before.Count > 0 ? before.Sum(e => e.Value) / before.Count : 0,
        };
    }

    /// <summary>The statistics library's request computed directly from the synthetic users.</summary>
    public AnalysisRequest Expected(MetricDefinition metric, IReadOnlyList<(string Key, double Weight)> variants, Func<SyntheticUser, bool> include,
        TestKind test, string control, TimeSpan? cuped = null, DateTime? to = null)
    {
        var until = to ?? End;
        return new AnalysisRequest
        {
            MetricType = metric.Kind == MetricKinds.UniqueConversions ? MetricType.Binary : MetricType.Continuous,
            Test = test,
            Control = control,
            ConfidenceLevel = 0.95,
            Correction = CorrectionMethod.None,
            Variants = variants.Select(v =>
            {
                var users = Users.Where(u => u.Variant == v.Key && include(u))
                    .Select(u => (Y: Value(u, metric, until), X: cuped is { } w ? Covariate(u, metric, w) : 0)).Where(p => p.Y is not null).ToList();
                return new VariantStatistics
                {
                    Key = v.Key,
                    ExpectedWeight = v.Weight,
                    Users = users.Count,
                    Sum = users.Sum(p => p.Y!.Value),
                    SumSquares = users.Sum(p => p.Y!.Value * p.Y!.Value),
                    Covariate = cuped is null ? null : new CovariateStatistics
                    {
                        Sum = users.Sum(p => p.X),
                        SumSquares = users.Sum(p => p.X * p.X),
                        SumProduct = users.Sum(p => p.X * p.Y!.Value),
                    },
                };
            }).ToList(),
        };
    }
}
