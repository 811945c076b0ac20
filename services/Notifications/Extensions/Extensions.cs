using Experiments.Contracts.Grpc;
using Experiments.Messaging;
using Experiments.Notifications.Consumers;
using Experiments.Notifications.Deliveries;
using Experiments.Notifications.Networking;
using Experiments.Postgres;

namespace Experiments.Notifications.Extensions;

public static class Extensions
{
    public const string Schema = "notifications";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(NotificationOptions.Section).Get<NotificationOptions>() ?? new NotificationOptions();
        if (options.MaxAttempts < 1 || options.Concurrency < 1 || options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Notifications:MaxAttempts and Notifications:Concurrency must be at least 1 and Notifications:RequestTimeout positive.");
        }
        var consoleBaseUrl = options.ConsoleBaseUrl ?? builder.Configuration["services:gateway:http:0"] ?? "http://127.0.0.1:5080";

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(options);
        builder.AddPostgres(Schema, typeof(Extensions).Assembly);
        builder.AddMessaging(options.QueuePrefix, bus =>
        {
            void Add<T>() where T : class, MassTransit.IConsumer => bus.AddConsumer<T>().Endpoint(e => e.Temporary = options.TemporaryQueues);
            Add<ExperimentAboutToStartConsumer>();
            Add<ExperimentStartedConsumer>();
            Add<ExperimentEndedConsumer>();
            Add<SrmDetectedConsumer>();
            Add<ExperimentLongRunningConsumer>();
            Add<StatSigReachedConsumer>();
            Add<BanditWeightsUpdatedConsumer>();
        });

        builder.Services.AddSingleton(new DestinationPolicy(options.AllowPrivateNetworks));
        builder.Services.AddSingleton(new NotificationContent(consoleBaseUrl));
        builder.Services.AddSingleton<DeliveryStore>();
        builder.Services.AddSingleton<DeliverySender>();
        builder.Services.AddSingleton<DeliveryProcessor>();
        builder.Services.AddSingleton<DeliverySignal>();
        builder.Services.AddSingleton<EventIntake>();
        builder.Services.AddSingleton<DeliveryDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeliveryDispatcher>());
        builder.Services.AddGrpc();
    }
}
