using System.Text.Json;
using Experiments.Contracts.Analysis.V1;
using Experiments.Contracts.Grpc;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Seeding;
using Experiments.Messaging;
using Experiments.Postgres;
using Experiments.Postgres.Configuration;
using Microsoft.AspNetCore.Authentication;

namespace Experiments.Gateway.Extensions;

public static class Extensions
{
    public const string Schema = "gateway";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddPostgres(Schema, typeof(Extensions).Assembly);
        builder.Services.Configure<SeedOptions>(builder.Configuration.GetSection("Seed"));
        builder.Services.AddHostedService<ProjectSeeder>();
        builder.AddMessaging("gateway");

        // Transactional outbox: stores write their events in the change's transaction; the relay publishes them
        // (nudged after each commit, polling as the safety net). Registered after the migrations and the bus.
        builder.Services.AddSingleton<GatewayOutbox>();
        builder.Services.Configure<OutboxOptions>(builder.Configuration.GetSection("Outbox"));
        builder.Services.AddSingleton<OutboxRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());

        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ExperimentStore>();
        builder.Services.AddSingleton<AnalysisConfigReader>();
        builder.Services.AddSingleton<AnalysisConfigStore>();
        builder.Services.Configure<Scheduling.SchedulerOptions>(builder.Configuration.GetSection("Scheduler"));
        builder.Services.AddSingleton<Scheduling.ExperimentScheduler>();
        builder.Services.AddHostedService<Scheduling.ExperimentSchedulerService>();
        builder.Services.AddSingleton<TargetingStore>();

        builder.Services.AddAuthentication(AdminKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();

        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.DictionaryKeyPolicy = null;
        });
        builder.Services.AddOpenApi();

        // Analysis over gRPC at services:analysis:grpc:0 (Aspire's service-discovery convention).
        builder.Services.AddSingleton(sp => GrpcHttpChannel.ForService(sp.GetRequiredService<IConfiguration>(), "analysis"));
        builder.Services.AddSingleton(sp => new AnalysisService.AnalysisServiceClient(sp.GetRequiredService<GrpcHttpChannel>()));

        // Subscriptions (stored here); deliveries, test sends and replays from notifications over gRPC at services:notifications:grpc:0.
        builder.Services.AddSingleton<SubscriptionStore>();
        builder.Services.AddSingleton(sp => new Experiments.Contracts.Notifications.V1.NotificationService.NotificationServiceClient(GrpcHttpChannel.ForAddress(
            sp.GetRequiredService<IConfiguration>()["services:notifications:grpc:0"] ?? "http://127.0.0.1:6084")));
    }
}
