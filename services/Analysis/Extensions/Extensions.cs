using Experiments.Analysis.Analyses;
using Experiments.Analysis.Queries;
using Experiments.ClickHouse.Hosting;
using Experiments.Contracts.Grpc;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;

namespace Experiments.Analysis.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // Configuration is read from the gateway's schema; snapshots (schema "analysis") come with scheduled analyses.
        builder.AddPostgres();
        builder.AddClickHouse();
        builder.AddMessaging("analysis");

        builder.Services.AddSingleton<ExperimentConfigReader>();
        builder.Services.AddSingleton<ExposureQueries>();
        builder.Services.AddSingleton<ExperimentAnalysis>();
        builder.Services.AddGrpc();
    }
}
