using Experiments.Statistics.Contracts;

namespace Experiments.EndToEnd.Tests;

/// <summary>One event a synthetic user did (times are whole seconds: ClickHouse stores <c>DateTime</c>).</summary>
public sealed record TrafficEvent(string Type, DateTime Time, double Revenue, string? InsertId);

/// <summary>
/// One synthetic user: identified (user id) or anonymous (device id only), evaluated by the assignment service or not,
/// exposed or not (the SRM: part of the German control users' exposures are lost), with the variant of their first
/// exposure, an optional jump to another variant, the user properties of their first exposure, and their events
/// before and after it.
/// </summary>
public sealed class TrafficUser
{
    public required int Index { get; init; }
    public required string UserId { get; init; }
    public required string DeviceId { get; init; }
    public required string Country { get; init; }
    public required string Plan { get; init; }
    /// <summary>Evaluated through the assignment service (which records the assignment); else the SDK picked the variant alone.</summary>
    public required bool Evaluated { get; init; }
    public required bool Tester { get; init; }
    public string Variant { get; set; } = "";
    public bool Exposed { get; set; } = true;
    public bool Jumper { get; set; }
    public DateTime FirstExposure { get; set; }
    /// <summary>The plan sent on the user's later exposures (an upgrade after the first one must not regroup the user).</summary>
    public string LaterPlan { get; set; } = "";
    public List<TrafficEvent> Events { get; } = [];

    public bool Anonymous => UserId.Length == 0;
    public string Unit => Anonymous ? DeviceId : UserId;
}

/// <summary>The three metrics of the experiment, as the test configures them through the gateway.</summary>
public sealed record TrafficMetric(string Key, string Kind, string EventType, string? Property);

/// <summary>
/// Deterministic synthetic traffic of one experiment (fixed seed): true effects, an SRM in Germany, variant jumpers,
/// testers, anonymous users, users the assignment service never saw, events before and after first exposure, and the
/// SDK events that carry it (exposures as <c>$exposure</c> with <c>flag_key</c> and <c>variant</c>). The expected
/// statistics are computed here from the users, with the service's rules, independently of its SQL.
/// </summary>
public sealed class AnalysisTraffic
{
    public static readonly string[] Variants = ["control", "treatment", "bold"];
    public static readonly string[] Countries = ["DE", "FR", "US"];
    public static readonly string[] Plans = ["free", "pro", "team"];
    private static readonly Dictionary<string, (double Rate, double Revenue)> Effects = new()
    {
        ["control"] = (0.10, 20),
        ["treatment"] = (0.18, 26),
        ["bold"] = (0.11, 20),
    };

    private readonly Random _random;

    public string FlagKey { get; }
    /// <summary>Every event is at or before this instant (the analysis of a running experiment ends now).</summary>
    public DateTime Anchor { get; }
    public List<TrafficUser> Users { get; } = [];

    private AnalysisTraffic(string flagKey, int seed, DateTime anchor)
    {
        FlagKey = flagKey;
        _random = new Random(seed);
        Anchor = anchor;
    }

    /// <summary>The users' profiles; variants come later (from the assignment service, or <see cref="Complete"/>).</summary>
    public static AnalysisTraffic Generate(string flagKey, int seed, int users, DateTime now)
    {
        var anchor = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc).AddMinutes(-5);
        var traffic = new AnalysisTraffic(flagKey, seed, anchor);
        var r = traffic._random;
        for (var i = 0; i < users; i++)
        {
            var anonymous = r.NextDouble() < 0.02;
            var evaluated = !anonymous && r.NextDouble() >= 0.03;
            var c = r.NextDouble();
            var p = r.NextDouble();
            traffic.Users.Add(new TrafficUser
            {
                Index = i,
                UserId = anonymous ? "" : $"{flagKey}-u{i:D4}",
                DeviceId = $"{flagKey}-d{i:D4}",
                Country = c < 0.4 ? "DE" : c < 0.6 ? "FR" : "US",
                Plan = p < 0.6 ? "free" : p < 0.9 ? "pro" : "team",
                Evaluated = evaluated,
                Tester = evaluated && r.NextDouble() < 0.01,
            });
        }
        return traffic;
    }

    /// <summary>
    /// Variants of the users the assignment service did not evaluate (the SDK's own pick), the lost exposures (30% of
    /// the German control users: an SRM of about 1.4:1 in Germany against 1:1:1 weights), jumpers and the events.
    /// </summary>
    public void Complete()
    {
        var r = _random;
        foreach (var user in Users)
        {
            if (!user.Evaluated)
            {
                user.Variant = Variants[r.Next(Variants.Length)];
            }
            user.Exposed = !(user.Country == "DE" && user.Variant == "control" && r.NextDouble() < 0.3);
            user.FirstExposure = Anchor.AddSeconds(-r.Next(3600, 9 * 86_400));
            user.Jumper = user.Exposed && !user.Anonymous && r.NextDouble() < 0.02;
            user.LaterPlan = r.NextDouble() < 0.05 ? "team" : user.Plan;
            var first = user.FirstExposure;
            var sinceFirst = (int)(Anchor - first).TotalSeconds;
            var (rate, revenue) = Effects[user.Variant];
            var n = 0;
            string Id() => $"{user.Unit}-e{n++}";
            double Revenue(double @base) => Math.Round(@base + r.NextDouble() * 50, 2);

            // Before exposure: inside the 7-day CUPED window, outside it, and one second before the exposure. Earlier
            // buyers buy more afterwards too, so the covariate explains part of the variance (CUPED's point).
            var buyer = r.NextDouble() < 0.25;
            if (buyer)
            {
                for (var k = r.Next(1, 3); k > 0; k--)
                {
                    user.Events.Add(new("purchase", first.AddSeconds(-r.Next(1, 6 * 86_400)), Revenue(15), Id()));
                }
            }
            if (r.NextDouble() < 0.1)
            {
                user.Events.Add(new("purchase", first.AddSeconds(-r.Next(8 * 86_400, 10 * 86_400)), Revenue(15), Id()));
            }
            if (r.NextDouble() < 0.03)
            {
                user.Events.Add(new("purchase", first.AddSeconds(-1), Revenue(15), Id()));
            }
            for (var k = r.Next(0, 4); k > 0; k--)
            {
                user.Events.Add(new("page_view", first.AddSeconds(-r.Next(1, 10 * 86_400)), 0, Id()));
            }
            // At the very second of the exposure (counts), and after it: the true effects.
            if (r.NextDouble() < 0.03)
            {
                user.Events.Add(new("purchase", first, Revenue(revenue), Id()));
            }
            if (r.NextDouble() < (buyer ? 2.5 * rate : rate))
            {
                for (var k = r.Next(1, 4); k > 0; k--)
                {
                    // Some without insert_id: ingest derives one from the event's content, the same on a resend.
                    var time = first.AddSeconds(r.Next(0, Math.Min(3 * 86_400, sinceFirst)));
                    user.Events.Add(new("purchase", time, Revenue(revenue), r.NextDouble() < 0.15 ? null : Id()));
                }
            }
            for (var k = r.Next(0, 6); k > 0; k--)
            {
                user.Events.Add(new("page_view", first.AddSeconds(r.Next(0, sinceFirst)), 0, Id()));
            }
        }
    }

    /// <summary>Every SDK event of the traffic (exposures and conversions), shuffled as concurrent clients would send them.</summary>
    public List<Dictionary<string, object?>> SdkEvents()
    {
        var events = new List<Dictionary<string, object?>>();
        foreach (var user in Users)
        {
            Dictionary<string, object?> Event(string type, DateTime time, string? insertId, object? eventProperties, string plan)
            {
                var e = new Dictionary<string, object?>
                {
                    ["event_type"] = type,
                    ["device_id"] = user.DeviceId,
                    ["time"] = new DateTimeOffset(time).ToUnixTimeMilliseconds(),
                    ["user_properties"] = new Dictionary<string, string> { ["country"] = user.Country, ["plan"] = plan },
                    ["platform"] = "Web",
                };
                if (!user.Anonymous)
                {
                    e["user_id"] = user.UserId;
                }
                if (insertId is not null)
                {
                    e["insert_id"] = insertId;
                }
                if (eventProperties is not null)
                {
                    e["event_properties"] = eventProperties;
                }
                return e;
            }

            if (user.Exposed)
            {
                var first = user.FirstExposure;
                events.Add(Event("$exposure", first, $"{user.Unit}-x0", new { flag_key = FlagKey, variant = user.Variant }, user.Plan));
                events.Add(Event("$exposure", first.AddSeconds(60 + user.Index % 3000), $"{user.Unit}-x1", new { flag_key = FlagKey, variant = user.Variant }, user.LaterPlan));
                if (user.Jumper)
                {
                    var other = Variants[(Array.IndexOf(Variants, user.Variant) + 1) % Variants.Length];
                    events.Add(Event("$exposure", first.AddSeconds(1800), $"{user.Unit}-xj", new { flag_key = FlagKey, variant = other }, user.LaterPlan));
                }
            }
            foreach (var e in user.Events)
            {
                events.Add(Event(e.Type, e.Time, e.InsertId, e.Type == "purchase" ? new { revenue = e.Revenue } : null, user.Plan));
            }
        }
        var shuffle = new Random(FlagKey.Length);
        return events.OrderBy(_ => shuffle.Next()).ToList();
    }

    /// <summary>The exposed users the analysis counts: each once, in the variant of their first exposure.</summary>
    public IEnumerable<TrafficUser> Exposed => Users.Where(u => u.Exposed);

    /// <summary>A user's value of a metric: events at or after the first exposure (the analysis of a running experiment ends now).</summary>
    public static double Value(TrafficUser user, TrafficMetric metric)
    {
        var after = user.Events.Where(e => e.Type == metric.EventType && e.Time >= user.FirstExposure).ToList();
        return metric.Kind switch
        {
            "unique_conversions" => after.Count > 0 ? 1 : 0,
            "event_totals" => after.Count,
            "property_sum" => after.Sum(e => e.Revenue),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric.Kind, "not used by this test"),
        };
    }

    /// <summary>CUPED's covariate: the same reduction over the window before the first exposure.</summary>
    public static double Covariate(TrafficUser user, TrafficMetric metric, TimeSpan window)
    {
        var before = user.Events.Where(e => e.Type == metric.EventType && e.Time < user.FirstExposure && e.Time >= user.FirstExposure - window).ToList();
        return metric.Kind switch
        {
            "unique_conversions" => before.Count > 0 ? 1 : 0,
            "event_totals" => before.Count,
            "property_sum" => before.Sum(e => e.Revenue),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric.Kind, "not used by this test"),
        };
    }

    /// <summary>The statistics library's request, computed directly from the exposed users the filter keeps.</summary>
    public AnalysisRequest Expected(TrafficMetric metric, Func<TrafficUser, bool> include, TestKind test, TimeSpan? cuped, double confidence = 0.95)
        => new()
        {
            MetricType = metric.Kind == "unique_conversions" ? MetricType.Binary : MetricType.Continuous,
            Test = test,
            Control = "control",
            ConfidenceLevel = confidence,
            Correction = CorrectionMethod.None,
            Variants = Variants.Select(variant =>
            {
                var users = Exposed.Where(u => u.Variant == variant && include(u))
                    .Select(u => (Y: Value(u, metric), X: cuped is { } w ? Covariate(u, metric, w) : 0)).ToList();
                return new VariantStatistics
                {
                    Key = variant,
                    ExpectedWeight = 1,
                    Users = users.Count,
                    Sum = users.Sum(p => p.Y),
                    SumSquares = users.Sum(p => p.Y * p.Y),
                    Covariate = cuped is null ? null : new CovariateStatistics
                    {
                        Sum = users.Sum(p => p.X),
                        SumSquares = users.Sum(p => p.X * p.X),
                        SumProduct = users.Sum(p => p.X * p.Y),
                    },
                };
            }).ToList(),
        };
}
