namespace Experiments.AppHost.Orchestration;

/// <summary>The AppHost's own settings (appsettings.json, environment, command line).</summary>
public sealed class PlatformOptions
{
    public string PostgresDatabase { get; set; } = "experiments";
    public string ClickHouseDatabase { get; set; } = "experiments";
    public int HealthTimeoutSeconds { get; set; } = 120;

    /// <summary>Seed the project <see cref="ProjectId"/> with its admin and SDK keys (development only).</summary>
    public bool SeedProject { get; set; } = true;

    /// <summary>Also create the demo experiment with simulated traffic (development only).</summary>
    public bool Demo { get; set; } = true;

    public string AdminKey { get; set; } = "dev-admin-key";
    public string SdkKey { get; set; } = "dev-sdk-key";
    public string ProjectId { get; set; } = "demo";
}

/// <summary>One service to start: its project folder under services/ and its ports.</summary>
public sealed class ServiceOptions
{
    public string Project { get; set; } = "";
    public int HttpPort { get; set; }
    public int? GrpcPort { get; set; }
}
