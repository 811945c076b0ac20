using System.Text.Json;
using Experiments.Assignment.Configuration;
using Experiments.Assignment.Consumers;
using Experiments.Assignment.Evaluation;
using Experiments.Contracts.Grpc;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;

namespace Experiments.Assignment.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // Configuration is the gateway's: read-only here, no schema of our own yet.
        builder.AddPostgres();
        builder.AddMessaging("assignment", bus => bus.AddConsumer<ExperimentChangedConsumer>());

        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ExperimentConfigReader>();
        builder.Services.AddSingleton<ConfigurationCache>();
        builder.Services.AddHostedService<ConfigurationRefresher>();
        builder.Services.AddSingleton<Evaluator>();

        builder.Services.AddGrpc();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
    }
}
