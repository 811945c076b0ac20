using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Experiments.Messaging;

public static class MessagingExtensions
{
    public const string ConnectionName = "rabbitmq";

    /// <summary>
    /// MassTransit over RabbitMQ from <c>ConnectionStrings:rabbitmq</c> (an <c>amqp://user:pass@host:port/vhost</c> URI),
    /// with publisher confirms, retries before a message is parked in its <c>_error</c> queue, endpoints named
    /// per service (kebab case, prefixed by <paramref name="serviceName"/>), and a start that waits for the bus
    /// so that nothing is published before the broker connection exists. MassTransit adds its own health check.
    /// </summary>
    public static IHostApplicationBuilder AddMessaging(
        this IHostApplicationBuilder builder, string serviceName, Action<IBusRegistrationConfigurator>? configure = null)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not configured.");
        var uri = new Uri(connectionString);

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName, includeNamespace: false));
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(uri, host =>
                {
                    var userInfo = Uri.UnescapeDataString(uri.UserInfo).Split(':', 2);
                    if (userInfo.Length == 2)
                    {
                        host.Username(userInfo[0]);
                        host.Password(userInfo[1]);
                    }
                    host.PublisherConfirmation = true;
                    host.ConnectionName(serviceName);
                });
                rabbit.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)));
                rabbit.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddOptions<MassTransitHostOptions>().Configure(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(60);
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }
}
