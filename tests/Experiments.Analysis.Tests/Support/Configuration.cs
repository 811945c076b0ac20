using Experiments.Postgres.Configuration;

namespace Experiments.Analysis.Tests.Support;

/// <summary>Writes experiment configuration straight into the gateway's tables.</summary>
public static class Configuration
{
    public static readonly MetricDefinition Purchase = new("purchase", "Purchase", MetricRoles.Primary, MetricKinds.UniqueConversions, "purchase", null, "increase", 0.1, null);
    public static readonly MetricDefinition Revenue = new("revenue", "Revenue", MetricRoles.Secondary, MetricKinds.PropertySum, "purchase", "revenue", "increase", null, null);
    public static readonly MetricDefinition PageViews = new("page_views", "Page views", MetricRoles.Guardrail, MetricKinds.EventTotals, "page_view", null, "increase", null, null);
    public static readonly MetricDefinition AverageOrder = new("average_order", "Average order", MetricRoles.Secondary, MetricKinds.PropertyAverage, "purchase", "revenue", "increase", null, null);
    public static readonly MetricDefinition Purchase24h = new("purchase_24h", "Purchase within a day", MetricRoles.Secondary, MetricKinds.UniqueConversions, "purchase", null, "increase", null, 24);

    public static async Task<ExperimentConfig> CreateAsync(
        AnalysisHost host, string projectId, string key, IReadOnlyList<(string Key, double Weight)> variants, IReadOnlyList<MetricDefinition> metrics,
        bool bandit = false, string status = "running", DateTime? stoppedAt = null)
    {
        await host.ExecuteAsync("INSERT INTO gateway.projects (id, name) VALUES (@id, @id) ON CONFLICT DO NOTHING", ("id", projectId));
        var id = Guid.NewGuid();
        await host.ExecuteAsync("""
            INSERT INTO gateway.experiments (id, project_id, key, name, status, bandit_enabled, salt, started_at, stopped_at)
            VALUES (@id, @project, @key, @key, @status, @bandit, @key, @start, @stop)
            """, ("id", id), ("project", projectId), ("key", key), ("status", status), ("bandit", bandit),
            ("start", new DateTimeOffset(SyntheticExperiment.Start)), ("stop", new DateTimeOffset(stoppedAt ?? SyntheticExperiment.End)));
        for (var i = 0; i < variants.Count; i++)
        {
            await host.ExecuteAsync("""
                INSERT INTO gateway.variants (id, experiment_id, key, name, traffic_weight, position) VALUES (@id, @experiment, @key, @key, @weight, @position)
                """, ("id", Guid.NewGuid()), ("experiment", id), ("key", variants[i].Key), ("weight", variants[i].Weight), ("position", i));
        }
        for (var i = 0; i < metrics.Count; i++)
        {
            var m = metrics[i];
            await host.ExecuteAsync("""
                INSERT INTO gateway.experiment_metrics (id, experiment_id, key, name, role, kind, event_type, property, direction, goal, conversion_window_hours, position)
                VALUES (@id, @experiment, @key, @name, @role, @kind, @event, @property, @direction, @goal, @window, @position)
                """, ("id", Guid.NewGuid()), ("experiment", id), ("key", m.Key), ("name", m.Name), ("role", m.Role), ("kind", m.Kind),
                ("event", m.EventType), ("property", m.Property), ("direction", m.Direction), ("goal", m.Goal), ("window", m.ConversionWindowHours), ("position", i));
        }
        return (await new ExperimentConfigReader(host.DataSource).FindAsync(projectId, id, CancellationToken.None))!;
    }

    /// <summary>Testers as the targeting API stores them: tester groups per variant in gateway.experiments.testers.</summary>
    public static async Task<ExperimentConfig> AddTestersAsync(AnalysisHost host, ExperimentConfig experiment, IEnumerable<string> users)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new[] { new TesterGroup(experiment.Variants[1].Key, users.ToList()) }, TargetingJson.Options);
        await host.ExecuteAsync("UPDATE gateway.experiments SET testers = @testers::jsonb WHERE id = @id", ("testers", json), ("id", experiment.Id));
        return (await new ExperimentConfigReader(host.DataSource).FindAsync(experiment.ProjectId, experiment.Id, CancellationToken.None))!;
    }
}
