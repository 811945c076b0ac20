using Experiments.Analysis.Analyses;
using Experiments.Analysis.Tests.Support;
using Experiments.ClickHouse;

namespace Experiments.Analysis.Tests;

/// <summary>
/// The ingest deduplication rule as the analysis applies it (docs/ingest.md): rows sharing the events' sorting key
/// (type, user, device, insert_id) are one event and the newest received_at wins, as a merge or FINAL would keep it;
/// rows that differ in any part of the key are different events. Written straight into ClickHouse, unmerged.
/// </summary>
public sealed class EventFoldingTests : IAsyncLifetime
{
    private readonly AnalysisHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Duplicated_events_count_once_with_the_newest_received_version()
    {
        var start = SyntheticExperiment.Start;
        var exposed = start.AddHours(1);
        // (user, variant) exposed once each.
        (string User, string Variant)[] users = [("u1", "control"), ("u2", "treatment"), ("u3", "treatment")];
        await _host.ClickHouse.InsertAsync("exposures",
            ["project_id", "flag_key", "variant", "user_id", "device_id", "time", "insert_id", "user_properties", "platform", "os_name", "received_at"],
            users, (w, u) =>
            {
                w.WriteString("fold"); w.WriteString("fold-exp"); w.WriteString(u.Variant); w.WriteString(u.User); w.WriteString("d-" + u.User);
                w.WriteDateTime(exposed); w.WriteString("x-" + u.User); w.WriteString("{}"); w.WriteString("Web"); w.WriteString("Windows"); w.WriteDateTime(exposed);
            });

        // (user, device, insert id, revenue, received at); every purchase is after the exposure.
        (string User, string Device, string InsertId, int Revenue, DateTime Received)[] purchases =
        [
            ("u1", "d-u1", "p1", 10, exposed.AddHours(1)),
            ("u1", "d-u1", "p1", 10, exposed.AddHours(1)),  // the same batch written twice: one event
            ("u2", "d-u2", "p2", 10, exposed.AddHours(1)),
            ("u2", "d-u2", "p2", 30, exposed.AddHours(3)),  // resent later with a new value: the newest (30) wins
            ("u2", "d-u2", "p2", 20, exposed.AddHours(2)),
            ("u3", "d-u3", "p3", 5, exposed.AddHours(1)),
            ("u3", "phone", "p3", 7, exposed.AddHours(1)),  // another device of the same user: another event
        ];
        // Separate inserts, so the rows sit in separate unmerged parts as redeliveries would.
        foreach (var purchase in purchases)
        {
            await _host.ClickHouse.InsertAsync("events",
                ["project_id", "event_type", "user_id", "device_id", "time", "insert_id", "event_properties", "user_properties", "platform", "os_name", "received_at"],
                [purchase], (w, p) =>
                {
                    w.WriteString("fold"); w.WriteString("purchase"); w.WriteString(p.User); w.WriteString(p.Device);
                    w.WriteDateTime(exposed.AddMinutes(30)); w.WriteString(p.InsertId);
                    w.WriteString(FormattableString.Invariant($"{{\"revenue\":{p.Revenue}}}"));
                    w.WriteString("{}"); w.WriteString("Web"); w.WriteString("Windows"); w.WriteDateTime(p.Received);
                });
        }
        var events = Configuration.PageViews with { Key = "purchases", Name = "Purchases", EventType = "purchase" };
        var experiment = await Configuration.CreateAsync(_host, "fold", "fold-exp", [("control", 1), ("treatment", 1)],
            [Configuration.Purchase, Configuration.Revenue, events]);

        var outcome = await _host.Analysis.RunAsync(experiment, new AnalysisOptions(), CancellationToken.None);

        var revenue = outcome.Response.Metrics.Single(m => m.Key == "revenue").Variants.ToDictionary(v => v.Key);
        Assert.Equal(10, revenue["control"].Sum);           // u1: 10 once
        Assert.Equal(30 + 5 + 7, revenue["treatment"].Sum); // u2: the newest 30; u3: 5 and 7 (two devices)
        var totals = outcome.Response.Metrics.Single(m => m.Key == "purchases").Variants.ToDictionary(v => v.Key);
        Assert.Equal(1, totals["control"].Sum);
        Assert.Equal(3, totals["treatment"].Sum);
        var converters = outcome.Response.Metrics.Single(m => m.Key == "purchase").Variants.ToDictionary(v => v.Key);
        Assert.Equal(1, converters["control"].Conversions);
        Assert.Equal(2, converters["treatment"].Conversions);

        // What a merge keeps is the same: FINAL over the raw table agrees with the analysis.
        var final = await _host.ClickHouse.QueryAsync(ClickHouseSql.Raw("""
            SELECT user_id, sum(visitParamExtractFloat(event_properties, 'revenue')) FROM events FINAL WHERE project_id = 'fold' GROUP BY user_id ORDER BY user_id
            """), row => (row.GetString(0), row.GetDouble(1)));
        Assert.Equal([("u1", 10.0), ("u2", 30.0), ("u3", 12.0)], final);
    }
}
