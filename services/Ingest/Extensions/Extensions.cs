using Experiments.ClickHouse.Hosting;
using Experiments.Ingest.Apis;
using Experiments.Ingest.Consumers;
using Experiments.Ingest.Model;
using Experiments.Ingest.Pipeline;
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
        builder.Services.AddOptions<IngestOptions>().Bind(builder.Configuration.GetSection(IngestOptions.Section))
            .Validate(o => o.QueueExpiry is null || o.QueueExpiry > TimeSpan.Zero, "Ingest:QueueExpiry must be a positive TimeSpan (or unset: queues kept forever).")
            .ValidateOnStart();
        // SDK keys are read from the gateway's schema.
        builder.AddPostgres();
        builder.AddClickHouse();
        builder.Services.AddSingleton(sp => new IngestQueues(sp.GetRequiredService<Experiments.ClickHouse.ClickHouseClient>().Settings.Database));
        builder.Services.AddHostedService<EventTablesSchema>();
        builder.AddMessaging("ingest", bus =>
        {
            bus.AddConsumer<EventBatchConsumer>(typeof(EventBatchConsumerDefinition));
            bus.AddConsumer<AssignmentBatchConsumer>(typeof(AssignmentBatchConsumerDefinition));
        });

        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<EventBatchParser>();
        builder.Services.AddSingleton<ExpiringEventQueue>();
        builder.Services.AddSingleton<EventBatchPublisher>();
        builder.Services.AddSingleton<EventsApi.IngestHandler>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddSingleton<InsertRetry>();
        builder.Services.AddSingleton<BatchStore>();
        builder.Services.AddSingleton<ErrorQueues>();
    }
}
