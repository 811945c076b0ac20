using Experiments.Messaging;
using Experiments.Notifications.Consumers;
using Experiments.Postgres;

namespace Experiments.Notifications.Extensions;

public static class Extensions
{
    public const string Schema = "notifications";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgres(Schema, typeof(Extensions).Assembly);
        builder.AddMessaging("notifications", bus =>
        {
            bus.AddConsumer<ExperimentStartedConsumer>();
            bus.AddConsumer<ExperimentEndedConsumer>();
        });
        builder.Services.AddSingleton<ReceivedEventLog>();
    }
}
