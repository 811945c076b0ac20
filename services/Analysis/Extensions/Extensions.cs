using Experiments.Analysis.Analyses;
using Experiments.Analysis.Consumers;
using Experiments.Analysis.Queries;
using Experiments.Analysis.Scheduling;
using Experiments.Analysis.Snapshots;
using Experiments.ClickHouse.Hosting;
using Experiments.Contracts.Grpc;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;
using MassTransit;

namespace Experiments.Analysis.Extensions;

public static class Extensions
{
    public const string Schema = "analysis";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // Configuration is read from the gateway's schema; snapshots, published alerts and bandit state live in schema "analysis".
        builder.AddPostgres(Schema, typeof(Extensions).Assembly);
        builder.AddClickHouse();
        // ExperimentChanged: one durable queue shared by the instances (each change taken in once, see ExperimentChangedConsumer).
        var changes = builder.Configuration.GetSection(ExperimentChangeOptions.Section);
        var changeOptions = changes.Get<ExperimentChangeOptions>() ?? new ExperimentChangeOptions();
        builder.AddMessaging(changeOptions.QueuePrefix, bus =>
        {
            bus.AddConsumer<ExperimentChangedConsumer>();
            if (changeOptions.AutoDeleteQueues)
            {
                bus.AddConfigureEndpointsCallback((_, endpoint) =>
                {
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                    {
                        rabbit.AutoDelete = true;
                    }
                });
            }
        });

        builder.Services.AddSingleton<ExperimentConfigReader>();
        builder.Services.AddSingleton<AnalysisConfigReader>();
        builder.Services.AddSingleton<AnalysisQueries>();
        builder.Services.AddSingleton<SnapshotStore>();
        builder.Services.AddSingleton<LatestResults>();
        builder.Services.AddSingleton<ExperimentAnalysis>();
        builder.Services.Configure<ScheduleOptions>(builder.Configuration.GetSection("Schedule"));
        builder.Services.AddSingleton<ScheduledAnalyses>();
        builder.Services.AddHostedService<ScheduledAnalysisService>();
        builder.Services.Configure<ExperimentChangeOptions>(changes);
        builder.Services.AddSingleton<PendingAnalysisSignal>();
        builder.Services.AddSingleton<PendingAnalyses>();
        builder.Services.AddHostedService<PendingAnalysisService>();
        builder.Services.AddGrpc();
    }
}
