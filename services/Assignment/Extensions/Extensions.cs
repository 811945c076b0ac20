using System.Text.Json;
using Experiments.Assignment.Bandits;
using Experiments.Assignment.Configuration;
using Experiments.Assignment.Evaluation;
using Experiments.Assignment.Recording;
using Experiments.Assignment.Sticky;
using Experiments.Contracts.Grpc;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;

namespace Experiments.Assignment.Extensions;

public static class Extensions
{
    public const string Schema = "assignment";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // Configuration is the gateway's (read-only here); sticky assignments and bandit weights are ours.
        builder.AddPostgres(Schema, typeof(Extensions).Assembly);

        // Every instance must hear every change: each gets its own temporary queue for these events.
        var instance = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        builder.AddMessaging("assignment", bus =>
        {
            bus.AddConsumer<ExperimentChangedConsumer>().Endpoint(e => { e.InstanceId = instance; e.Temporary = true; });
            bus.AddConsumer<BanditWeightsUpdatedConsumer>().Endpoint(e => { e.InstanceId = instance; e.Temporary = true; });
        });

        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ExperimentConfigReader>();
        builder.Services.AddSingleton<BanditWeightStore>();
        builder.Services.AddSingleton<StickyAssignments>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StickyAssignments>());
        builder.Services.AddSingleton<AssignmentRecorder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AssignmentRecorder>());
        builder.Services.AddSingleton<ConfigurationCache>();
        builder.Services.AddHostedService<ConfigurationRefresher>();
        builder.Services.AddSingleton<Evaluator>();

        builder.Services.AddGrpc();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
    }
}
