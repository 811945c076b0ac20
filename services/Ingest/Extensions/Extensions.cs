using System.Text.Json;
using Experiments.ClickHouse.Hosting;
using Experiments.Ingest.Consumers;
using Experiments.Ingest.Model;
using Experiments.Ingest.Storage;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;

namespace Experiments.Ingest.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        // SDK keys are read from the gateway's schema.
        builder.AddPostgres();
        builder.AddClickHouse();
        builder.Services.AddHostedService<EventTablesSchema>();
        builder.AddMessaging("ingest", bus => bus.AddConsumer<EventBatchConsumer>());

        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<EventValidator>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
    }
}
