using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Experiments.ServiceDefaults.Telemetry;

/// <summary>
/// Traces, metrics and logs from the OpenTelemetry SDK. OpenTelemetry.Extensions.Hosting and the
/// instrumentation packages don't restore here, so the providers are built directly and listen to
/// the sources that ASP.NET Core, HttpClient, Npgsql, MassTransit and our own code emit natively.
/// The OTLP exporter is added when OTEL_EXPORTER_OTLP_ENDPOINT is set, as Aspire does.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Prefix of every ActivitySource and Meter the project itself defines.</summary>
    public const string OwnSourcesPrefix = "Experiments.";

    private static readonly string[] TraceSources =
    [
        OwnSourcesPrefix + "*",
        "Microsoft.AspNetCore",
        "System.Net.Http",
        "Npgsql",
        "MassTransit",
    ];

    private static readonly string[] Meters =
    [
        OwnSourcesPrefix + "*",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http",
        "System.Runtime",
        "Npgsql",
        "MassTransit",
    ];

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        var useOtlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        void ConfigureResource(ResourceBuilder r) => r.AddService(serviceName);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName));
            if (useOtlp)
            {
                logging.AddOtlpExporter();
            }
        });

        // Traces and metrics go nowhere without an exporter: then nothing listens, so requests create no activities and
        // instruments record nothing (about 2% more REST evaluations/s on the 2-core machine, docs/benchmarks/assignment.md).
        if (!useOtlp)
        {
            return builder;
        }
        builder.Services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder().ConfigureResource(ConfigureResource).AddSource(TraceSources)
            .AddOtlpExporter().Build());
        builder.Services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder().ConfigureResource(ConfigureResource).AddMeter(Meters)
            .AddOtlpExporter().Build());
        // Resolving the providers at start makes them listen; the container disposes (and flushes) them at stop.
        builder.Services.AddHostedService<TelemetryProvidersActivator>();
        return builder;
    }

    private sealed class TelemetryProvidersActivator(TracerProvider tracerProvider, MeterProvider meterProvider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(tracerProvider);
            GC.KeepAlive(meterProvider);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
